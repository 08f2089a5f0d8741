"""Reuters-10K: the RCV1 subset used to evaluate DEC, IDEC and their successors."""

import numbers
import os

import numpy as np
from sklearn.datasets import fetch_rcv1
from sklearn.preprocessing import normalize
from sklearn.utils import Bunch, check_random_state

from ._fetch import get_data_home

# Top-level topics, in the label order of the DEC reference code.
REUTERS_CATEGORIES = ("CCAT", "GCAT", "MCAT", "ECAT")
N_TERMS = 2000

_REUTERS10K_DESCR = """\
Reuters-10K
-----------

A random subset of the RCV1-v2 newswire corpus (Lewis et al., 2004) prepared
as in Xie, Girshick and Farhadi, "Unsupervised Deep Embedding for Clustering
Analysis" (DEC, ICML 2016), and used by IDEC, DMAE and others: the documents
labelled with exactly one of the four top-level topics CCAT (corporate/
industrial), GCAT (government/social), MCAT (markets) and ECAT (economics),
represented by the log tf-idf weights of the 2,000 terms that occur in the
most of these documents, each row L2-normalised.
"""


def load_reuters10k(
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    return_X_y: bool = False,
    n_samples: int | None = 10000,
    random_state: int | np.random.RandomState | None = 0,
) -> Bunch | tuple:
    """Load Reuters-10K, the 4-topic RCV1 subset of the DEC paper.

    =================   ==============================
    Classes                                          4
    Samples total             10000 (``n_samples``)
    Dimensionality                                2000
    Features            real, sparse, unit L2 rows
    =================   ==============================

    Built from :func:`sklearn.datasets.fetch_rcv1`, whose features are
    already log tf-idf weights (cosine-normalised) over 47,236 terms:

    1. keep the documents labelled with exactly one of the topics CCAT, GCAT,
       MCAT and ECAT;
    2. keep the 2,000 terms present in the most of these documents, in their
       RCV1 column order (ties broken by column order);
    3. draw ``n_samples`` of these documents at random, without replacement;
    4. L2-normalise each row again, as dropping terms changed its norm.

    The first call downloads RCV1 (about 650 MB) to ``data_home/RCV1``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Data folder, see :func:`get_data_home`. Pass
        ``sklearn.datasets.get_data_home()`` to reuse a copy of RCV1 already
        downloaded by scikit-learn.
    download_if_missing : bool, default=True
        If False, raise an ``OSError`` instead of downloading RCV1.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    n_samples : int or None, default=10000
        Number of documents to draw; None keeps all of them (about 685,000),
        in random order.
    random_state : int, RandomState instance or None, default=0
        Seed of the document sample, for reproducible subsets.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        With the attributes:

        data : scipy.sparse.csr_matrix of shape (n_samples, 2000), float32
            Document vectors with unit L2 norm (or zero, for a document
            without any of the selected terms).
        target : ndarray of shape (n_samples,), dtype int64
            Topic of each document, an index into ``target_names``.
        target_names : ndarray of shape (4,)
            ``["CCAT", "GCAT", "MCAT", "ECAT"]``.
        feature_indices : ndarray of shape (2000,)
            Columns of the RCV1 matrix kept as features.
        sample_id : ndarray of shape (n_samples,)
            RCV1 identifiers of the documents.
        DESCR : str
            Description of the dataset.

    (data, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If ``n_samples`` is not a positive integer no larger than the number
        of single-topic documents.
    OSError
        If RCV1 is missing and cannot be downloaded.

    Examples
    --------
    >>> from skdeepclust.datasets import load_reuters10k
    >>> X, y = load_reuters10k(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype  # doctest: +SKIP
    ((10000, 2000), dtype('float32'))
    """
    if n_samples is not None and (
        not isinstance(n_samples, numbers.Integral) or isinstance(n_samples, bool) or n_samples < 1
    ):
        raise ValueError(f"n_samples must be a positive integer or None, got {n_samples!r}.")
    rcv1 = fetch_rcv1(data_home=get_data_home(data_home), download_if_missing=download_if_missing)
    X = rcv1.data.tocsr()
    names = np.asarray(rcv1.target_names).tolist()
    missing = [c for c in REUTERS_CATEGORIES if c not in names]
    if missing:
        raise ValueError(f"RCV1 lacks the expected topic(s) {missing}.")
    topics = rcv1.target.tocsc()[:, [names.index(c) for c in REUTERS_CATEGORIES]]
    topics = topics.toarray() != 0
    single_topic = np.flatnonzero(topics.sum(axis=1) == 1)

    if n_samples is None:
        n_samples = single_topic.shape[0]
    elif n_samples > single_topic.shape[0]:
        raise ValueError(
            f"n_samples={n_samples} exceeds the {single_topic.shape[0]} single-topic documents."
        )

    # Document frequencies over the single-topic documents, without copying
    # the whole matrix: mask the stored entries of the rows that are kept.
    row_kept = np.zeros(X.shape[0], dtype=bool)
    row_kept[single_topic] = True
    entry_kept = np.repeat(row_kept, np.diff(X.indptr))
    doc_freq = np.bincount(X.indices[entry_kept & (X.data != 0)], minlength=X.shape[1])
    terms = np.sort(np.argsort(-doc_freq, kind="stable")[:N_TERMS])

    rng = check_random_state(random_state)
    docs = single_topic[rng.choice(single_topic.shape[0], size=n_samples, replace=False)]
    data = normalize(X[docs][:, terms], norm="l2").astype(np.float32).tocsr()
    target = np.argmax(topics[docs], axis=1).astype(np.int64)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=np.array(REUTERS_CATEGORIES),
        feature_indices=terms,
        sample_id=np.asarray(rcv1.sample_id)[docs],
        DESCR=_REUTERS10K_DESCR,
    )
