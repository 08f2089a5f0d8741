"""Evaluation metrics and scorers for clustering with known ground truth.

Clustering algorithms return arbitrary cluster identifiers, so a predicted
partition can only be compared with class labels up to a relabelling of the
clusters. This module provides the unsupervised clustering accuracy (the best
accuracy over one-to-one cluster-to-class assignments, found with the
Hungarian algorithm), re-exports scikit-learn's normalized mutual information
and adjusted Rand index, and exposes all three as scorers usable in
:class:`~sklearn.model_selection.GridSearchCV`.
"""

import copy
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, make_scorer, normalized_mutual_info_score
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics.cluster import contingency_matrix

__all__ = [
    "accuracy_scorer",
    "adjusted_rand_score",
    "ari_scorer",
    "cluster_report",
    "get_scorer",
    "nmi_scorer",
    "normalized_mutual_info_score",
    "unsupervised_accuracy",
]


def _as_label_vector(y: ArrayLike, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got an array of shape {y.shape}.")
    if y.shape[0] == 0:
        raise ValueError(f"{name} is empty: at least one label is required.")
    if y.dtype.kind in "fc":
        missing = np.isnan(y)
    elif y.dtype.kind in "mM":
        missing = np.isnat(y)
    elif y.dtype == object:
        missing = np.fromiter((_is_missing(v) for v in y), dtype=bool, count=len(y))
    else:
        return y
    if missing.any():
        raise ValueError(
            f"{name} contains {int(missing.sum())} missing label(s) (NaN, NaT, None or pd.NA); "
            "every sample needs a label."
        )
    return y


def _is_missing(value: Any) -> bool:
    """Whether an object label is a missing-value marker: None, pd.NA, NaN or NaT."""
    # pd.NA can only be in the labels if pandas is imported; its comparisons return pd.NA,
    # whose truth value raises, so it must be recognised before comparing.
    pandas = sys.modules.get("pandas")
    if value is None or (pandas is not None and value is pandas.NA):
        return True
    # NaN and NaT (numpy's and pandas') are the values that differ from themselves.
    return bool(value != value)


def _encode(y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted distinct labels of ``y`` and the code of each sample."""
    try:
        return np.unique(y, return_inverse=True)
    except TypeError as exc:
        raise ValueError(
            f"{name} mixes label types that cannot be compared (e.g. strings and numbers): {exc}"
        ) from exc


def _check_and_encode(
    y_true: ArrayLike, y_pred: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate a pair of labelings and encode both as integer codes.

    Returns ``classes, true_codes, clusters, pred_codes`` where ``classes`` and
    ``clusters`` hold the sorted distinct labels of ``y_true`` and ``y_pred``.
    """
    y_true = _as_label_vector(y_true, "y_true")
    y_pred = _as_label_vector(y_pred, "y_pred")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            "y_true and y_pred must have the same length, got "
            f"{y_true.shape[0]} and {y_pred.shape[0]} labels."
        )
    classes, true_codes = _encode(y_true, "y_true")
    clusters, pred_codes = _encode(y_pred, "y_pred")
    return classes, true_codes, clusters, pred_codes


def unsupervised_accuracy(
    y_true: ArrayLike, y_pred: ArrayLike, *, return_mapping: bool = False
) -> float | tuple[float, dict[Any, Any]]:
    """Clustering accuracy under the best one-to-one cluster-to-class mapping.

    The accuracy is ``max_m mean(m(y_pred) == y_true)`` over all injective
    mappings ``m`` from predicted clusters to classes. The optimal mapping is
    found with the Hungarian algorithm on the contingency matrix, in
    ``O(k^3)`` time for ``k = max(n_classes, n_clusters)``, instead of
    enumerating the ``k!`` permutations.

    The number of clusters may differ from the number of classes. With more
    clusters than classes, only ``n_classes`` clusters can be matched and the
    samples of the remaining clusters count as errors; with fewer clusters,
    the samples of the unmatched classes count as errors.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels. Any comparable labels are accepted:
        non-contiguous or negative integers, floats, strings.
    y_pred : array-like of shape (n_samples,)
        Predicted cluster labels, with the same requirements as ``y_true``.
    return_mapping : bool, default=False
        If True, also return the optimal mapping from cluster labels to class
        labels.

    Returns
    -------
    accuracy : float
        Fraction of samples whose cluster is mapped to their class, in
        ``[0, 1]``.
    mapping : dict
        Only returned if ``return_mapping`` is True. Maps each matched cluster
        label to its class label, ordered by cluster label. When there are
        more clusters than classes, the unmatched clusters are absent from
        the dictionary (``mapping.get(label)`` returns None for them).

    Raises
    ------
    ValueError
        If the inputs are not 1-D, are empty, have different lengths, contain
        missing labels (NaN or None) or mix labels that cannot be compared.

    See Also
    --------
    cluster_report : Accuracy, NMI, ARI and cluster sizes in one call.

    Examples
    --------
    >>> from skdeepclust.metrics import unsupervised_accuracy
    >>> unsupervised_accuracy([0, 0, 0, 1, 1, 1, 2, 2], [5, 5, 3, 3, 3, 3, 9, 9])
    0.875
    >>> acc, mapping = unsupervised_accuracy(
    ...     ["cat", "cat", "dog", "dog"], [1, 1, 0, 2], return_mapping=True
    ... )
    >>> acc
    0.75
    >>> mapping
    {0: 'dog', 1: 'cat'}
    """
    classes, true_codes, clusters, pred_codes = _check_and_encode(y_true, y_pred)
    contingency = contingency_matrix(true_codes, pred_codes)
    rows, cols = linear_sum_assignment(contingency, maximize=True)
    accuracy = float(contingency[rows, cols].sum() / true_codes.shape[0])
    if not return_mapping:
        return accuracy
    order = np.argsort(cols)
    mapping = dict(zip(clusters[cols[order]].tolist(), classes[rows[order]].tolist()))
    return accuracy, mapping


def cluster_report(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, Any]:
    """Summarise a clustering against ground-truth labels.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Predicted cluster labels.

    Returns
    -------
    report : dict
        With the keys:

        - ``"accuracy"`` : float, see :func:`unsupervised_accuracy`;
        - ``"nmi"`` : float, normalized mutual information
          (:func:`~sklearn.metrics.normalized_mutual_info_score`);
        - ``"ari"`` : float, adjusted Rand index
          (:func:`~sklearn.metrics.adjusted_rand_score`);
        - ``"n_clusters"`` : int, number of distinct labels in ``y_pred``;
        - ``"cluster_sizes"`` : dict mapping each predicted cluster label,
          in sorted order, to its number of samples.

    Raises
    ------
    ValueError
        On invalid labels, as :func:`unsupervised_accuracy`.

    Examples
    --------
    >>> from skdeepclust.metrics import cluster_report
    >>> report = cluster_report([0, 0, 1, 1], [1, 1, 0, 0])
    >>> report["accuracy"], report["nmi"], report["ari"]
    (1.0, 1.0, 1.0)
    >>> report["n_clusters"], report["cluster_sizes"]
    (2, {0: 2, 1: 2})
    """
    _, true_codes, clusters, pred_codes = _check_and_encode(y_true, y_pred)
    return {
        # The codes carry the same partitions as the labels and skip a second
        # round of validation.
        "accuracy": unsupervised_accuracy(true_codes, pred_codes),
        "nmi": float(normalized_mutual_info_score(true_codes, pred_codes)),
        "ari": float(adjusted_rand_score(true_codes, pred_codes)),
        "n_clusters": int(clusters.shape[0]),
        "cluster_sizes": dict(
            zip(clusters.tolist(), np.bincount(pred_codes, minlength=len(clusters)).tolist())
        ),
    }


# Scorers for ``GridSearchCV(scoring=...)``; they score ``estimator.predict(X)``.
accuracy_scorer = make_scorer(unsupervised_accuracy)
nmi_scorer = make_scorer(normalized_mutual_info_score)
ari_scorer = make_scorer(adjusted_rand_score)

_SCORERS = {
    "unsupervised_accuracy": accuracy_scorer,
    "accuracy": accuracy_scorer,
    "acc": accuracy_scorer,
    "nmi": nmi_scorer,
    "ari": ari_scorer,
}


def get_scorer(scoring: str | Callable | None) -> Callable:
    """Get a scorer by name, preferring the clustering scorers of this module.

    ``"unsupervised_accuracy"``, ``"accuracy"`` and ``"acc"`` return
    :data:`accuracy_scorer`; ``"nmi"`` and ``"ari"`` return
    :data:`nmi_scorer` and :data:`ari_scorer`. Note that ``"accuracy"``
    therefore means the *unsupervised* accuracy here, unlike in
    :func:`sklearn.metrics.get_scorer`. Any other value is passed to
    :func:`sklearn.metrics.get_scorer`.

    The scorers call the estimator's ``predict``, so the estimator must
    implement it. Pass the returned object, not the name, to
    ``GridSearchCV(scoring=...)``: scikit-learn does not know these names.

    Parameters
    ----------
    scoring : str, callable or None
        Scorer name, or anything accepted by :func:`sklearn.metrics.get_scorer`.

    Returns
    -------
    scorer : callable
        A scorer with signature ``scorer(estimator, X, y)``; a fresh copy, so
        it may be modified without affecting later calls.

    Raises
    ------
    ValueError
        If the name is neither one of ours nor a scikit-learn scorer name.

    Examples
    --------
    >>> from skdeepclust.metrics import get_scorer
    >>> get_scorer("acc")
    make_scorer(unsupervised_accuracy, response_method='predict')
    >>> get_scorer("neg_mean_squared_error")
    make_scorer(mean_squared_error, greater_is_better=False, response_method='predict')
    """
    if isinstance(scoring, str) and scoring in _SCORERS:
        # Copy like scikit-learn does, so callers cannot alter the shared scorer.
        return copy.deepcopy(_SCORERS[scoring])
    return _sklearn_get_scorer(scoring)
