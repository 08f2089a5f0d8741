import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV

from skdeepclust.metrics import (
    accuracy_scorer,
    adjusted_rand_score,
    ari_scorer,
    cluster_report,
    get_scorer,
    nmi_scorer,
    normalized_mutual_info_score,
    unsupervised_accuracy,
)

FAST = settings(max_examples=40, deadline=None)


def brute_force_accuracy(y_true, y_pred):
    """Best accuracy over every one-to-one cluster-to-class assignment."""
    classes, t = np.unique(y_true, return_inverse=True)
    clusters, p = np.unique(y_pred, return_inverse=True)
    # Pad the smaller side with dummy labels that match no sample, so that
    # permutations of range(k) enumerate all partial assignments.
    k = max(len(classes), len(clusters))
    return max(np.mean(np.asarray(perm)[p] == t) for perm in itertools.permutations(range(k)))


@st.composite
def label_pairs(draw, max_labels=6, max_size=30):
    n = draw(st.integers(1, max_size))
    n_true = draw(st.integers(1, max_labels))
    n_pred = draw(st.integers(1, max_labels))
    y_true = draw(st.lists(st.integers(0, n_true - 1), min_size=n, max_size=n))
    y_pred = draw(st.lists(st.integers(0, n_pred - 1), min_size=n, max_size=n))
    return np.array(y_true), np.array(y_pred)


def test_hand_computed_cases():
    assert unsupervised_accuracy([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    # Clusters 5, 3, 9 map to classes 0, 1, 2: 2 + 3 + 2 hits out of 8.
    y_true = [0, 0, 0, 1, 1, 1, 2, 2]
    assert unsupervised_accuracy(y_true, [5, 5, 3, 3, 3, 3, 9, 9]) == 7 / 8
    # One cluster for all: only the largest class can be matched.
    assert unsupervised_accuracy([0, 0, 0, 1, 2], [4, 4, 4, 4, 4]) == 3 / 5
    assert unsupervised_accuracy([3], [-7]) == 1.0


def test_more_clusters_than_classes():
    acc, mapping = unsupervised_accuracy(
        [0, 0, 0, 1, 1, 1], [0, 0, 1, 2, 2, 3], return_mapping=True
    )
    assert acc == 4 / 6
    assert mapping == {0: 0, 2: 1}
    assert mapping.get(1) is None and mapping.get(3) is None


def test_fewer_clusters_than_classes():
    acc, mapping = unsupervised_accuracy(
        [0, 0, 1, 1, 2, 2, 2], [1, 1, 0, 0, 0, 0, 0], return_mapping=True
    )
    assert acc == 5 / 7
    assert mapping == {0: 2, 1: 0}


def test_string_and_arbitrary_labels():
    y_true = np.array(["cat", "cat", "dog", "dog", "eel"])
    y_pred = np.array([-10, -10, 42, 42, 7])
    acc, mapping = unsupervised_accuracy(y_true, y_pred, return_mapping=True)
    assert acc == 1.0
    assert mapping == {-10: "cat", 7: "eel", 42: "dog"}
    assert all(type(k) is int and type(v) is str for k, v in mapping.items())
    acc, mapping = unsupervised_accuracy([1.5, 1.5, 2.5], ["b", "b", "a"], return_mapping=True)
    assert acc == 1.0 and mapping == {"a": 2.5, "b": 1.5}


def test_mapping_reproduces_accuracy():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, size=200)
    y_pred = np.where(rng.random(200) < 0.8, (y_true * 3 + 1) % 7, rng.integers(0, 7, size=200))
    acc, mapping = unsupervised_accuracy(y_true, y_pred, return_mapping=True)
    mapped = np.array([mapping.get(c, -1) for c in y_pred])
    assert acc == np.mean(mapped == y_true)
    assert len(set(mapping.values())) == len(mapping)


@FAST
@given(label_pairs())
def test_matches_brute_force(pair):
    y_true, y_pred = pair
    assert unsupervised_accuracy(y_true, y_pred) == pytest.approx(
        brute_force_accuracy(y_true, y_pred)
    )


@FAST
@given(label_pairs(max_labels=8), st.randoms(use_true_random=False))
def test_invariant_to_relabelling_predictions(pair, rnd):
    y_true, y_pred = pair
    clusters = np.unique(y_pred)
    # Any injective relabelling, to a different and non-contiguous label set.
    new_labels = np.array(rnd.sample(range(-50, 50), len(clusters)))
    relabelled = new_labels[np.searchsorted(clusters, y_pred)]
    assert unsupervised_accuracy(y_true, relabelled) == pytest.approx(
        unsupervised_accuracy(y_true, y_pred)
    )
    assert unsupervised_accuracy(y_true, relabelled.astype(str)) == pytest.approx(
        unsupervised_accuracy(y_true, y_pred)
    )


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        ([0, 1, 1], [0, 1], "same length"),
        ([], [], "empty"),
        ([0, 1], [], "empty"),
        ([0.0, np.nan], [0, 1], "y_true contains 1 missing"),
        ([0, 1], np.array(["a", None], dtype=object), "y_pred contains 1 missing"),
        ([[0, 1], [1, 0]], [0, 1], "1-D"),
        ([0, 1], [[0], [1]], "1-D"),
        (np.array(["a", 1], dtype=object), [0, 1], "cannot be compared"),
    ],
)
def test_invalid_input(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        unsupervised_accuracy(y_true, y_pred)
    with pytest.raises(ValueError, match=match):
        cluster_report(y_true, y_pred)


def test_cluster_report():
    y_true = ["a", "a", "b", "b", "b", "c"]
    y_pred = [2, 2, 0, 0, 9, 9]
    report = cluster_report(y_true, y_pred)
    assert set(report) == {"accuracy", "nmi", "ari", "n_clusters", "cluster_sizes"}
    assert report["accuracy"] == 5 / 6
    assert report["nmi"] == pytest.approx(normalized_mutual_info_score(y_true, y_pred))
    assert report["ari"] == pytest.approx(adjusted_rand_score(y_true, y_pred))
    assert report["n_clusters"] == 3
    assert report["cluster_sizes"] == {0: 2, 2: 2, 9: 2}


def test_get_scorer():
    assert get_scorer("acc")._score_func is unsupervised_accuracy
    assert get_scorer("accuracy")._score_func is unsupervised_accuracy
    assert get_scorer("unsupervised_accuracy")._score_func is unsupervised_accuracy
    assert get_scorer("nmi")._score_func is normalized_mutual_info_score
    assert get_scorer("ari")._score_func is adjusted_rand_score
    assert get_scorer("acc") is not accuracy_scorer
    assert get_scorer("adjusted_mutual_info_score")._score_func.__name__ == (
        "adjusted_mutual_info_score"
    )
    with pytest.raises(ValueError, match="not a valid scoring value"):
        get_scorer("no_such_scorer")


@pytest.mark.parametrize("scorer", [accuracy_scorer, nmi_scorer, ari_scorer, get_scorer("acc")])
def test_scorers_select_k_in_grid_search(scorer):
    X, y = make_blobs(n_samples=90, centers=3, cluster_std=0.5, random_state=0)
    idx = np.arange(len(X))
    search = GridSearchCV(
        KMeans(n_init=3, random_state=0), {"n_clusters": [2, 3]}, scoring=scorer, cv=[(idx, idx)]
    )
    search.fit(X, y)
    assert search.best_params_ == {"n_clusters": 3}
    assert search.best_score_ == pytest.approx(1.0)
