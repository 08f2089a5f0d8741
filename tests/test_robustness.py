"""Robustness: property-based input tests, numerical stability and out-of-core memmaps.

The contract checked on every generated input: ``fit`` either succeeds, and then labels are
in ``[0, n_clusters)``, ``predict`` reproduces ``labels_``, ``predict_proba``, the centres,
``transform`` and ``score`` are finite, or it raises a ``ValueError`` whose message says what
is wrong with the input. Anything else (another exception, a NaN, an internal message) is a
bug. Hypothesis runs derandomized, without an example database, so the same test selection
sees the same cases on every run (Hypothesis also mixes in constants from the project modules
already imported, so running a subset of the suite may draw other cases);
``--hypothesis-show-statistics`` prints how many ran and how each ended.

Tests marked ``xfail(strict=True)`` document known bugs; they flip to XPASS (and fail) once
the bug is fixed, so the mark can be removed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skdeepclust import DMAEClustering
from skdeepclust.dissimilarities import VALID_DISSIMILARITIES
from skdeepclust.metrics import cluster_report, unsupervised_accuracy
from skdeepclust.neighbors import kneighbors
from skdeepclust.nn.mixture import DissimilarityMixture

pd = pytest.importorskip("pandas")

REPO = Path(__file__).resolve().parents[1]


def _settings(max_examples: int):
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


SHALLOW = dict(autoencoder=None, epochs=1)
# n_neighbors=2 keeps the graph pretraining possible down to 3 samples.
TINY_DEEP = dict(hidden_dims=(8,), latent_dim=2, pretrain_epochs=1, epochs=1, n_neighbors=2)

# What a "clear" ValueError talks about: the input or the parameters checked against it.
CLEAR_MESSAGE = re.compile(
    r"NaN|infinity|n_samples|n_neighbors|n_clusters|sample\(s\)|feature|2D array|dtype|sparse",
)

DTYPES = ["float64", "float32", "float16", "int64", "int32", "uint8", "bool"]
SCALES = [1e-8, 1e-4, 1.0, 1e4, 1e8]


def _cast(X: np.ndarray, dtype: str) -> np.ndarray:
    """``X`` as ``dtype`` the way a user would get it: rounded, clipped and thresholded."""
    if dtype == "bool":
        return X > np.median(X)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return np.clip(np.rint(X), info.min, info.max).astype(dtype)
    with np.errstate(over="ignore"):  # float16 overflows to inf above 65504: a case to test
        return X.astype(dtype)


@st.composite
def inputs(draw):
    """A data set, its container and n_clusters, plus whether it holds non-finite values."""
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 4))
    n_clusters = draw(st.integers(1, n))
    X = draw(arrays(np.float64, (n, d), elements=st.floats(-1.0, 1.0, width=32)))
    X = X * draw(st.sampled_from(SCALES)) + draw(st.sampled_from([0.0, 1.0, 1e4]))
    if n > 1 and draw(st.booleans()):  # duplicate points
        X[n // 2 :] = X[0]
    if draw(st.booleans()):  # a constant column
        X[:, draw(st.integers(0, d - 1))] = draw(st.sampled_from([0.0, 3.0]))
    container = draw(st.sampled_from(["ndarray", "list", "dataframe", "csr_matrix", "csr_array"]))
    if container == "dataframe":  # one dtype per column
        columns = {f"c{j}": _cast(X[:, j], draw(st.sampled_from(DTYPES))) for j in range(d)}
        data = pd.DataFrame(columns)
    else:
        data = _cast(X, draw(st.sampled_from(DTYPES)))
    if draw(st.integers(0, 3)) == 0:  # a quarter of the cases get a NaN or an infinity
        nonfinite = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))
        if container == "dataframe":
            data[f"c{j}"] = data[f"c{j}"].astype("float64")
            data.iloc[i, j] = nonfinite
        else:
            data = data.astype(np.float64)
            data[i, j] = nonfinite
    if container == "list":
        data = data.tolist()
    elif container.startswith("csr"):
        if data.dtype == np.float16:  # scipy.sparse has no float16
            data = data.astype(np.float32)
        data = sp.csr_matrix(data) if container == "csr_matrix" else sp.csr_array(data)
    return data, n_clusters


def _has_nonfinite(data) -> bool:
    if sp.issparse(data):
        values = data.data
    elif isinstance(data, pd.DataFrame):
        values = data.to_numpy(dtype=np.float64)
    else:
        values = np.asarray(data, dtype=np.float64)
    # A float16 cast of values above 65504 is already inf here; the other values (at most
    # 1e8 + 1e4 in size) stay finite in the float32 the estimators train in.
    return not np.isfinite(values).all()


def _check_fit_contract(estimator, data, n_clusters):
    """Fit and check the contract; return "fitted" or "rejected (why)" for the statistics."""
    try:
        estimator.fit(data)
    except ValueError as exc:
        reason = CLEAR_MESSAGE.search(str(exc))
        assert reason, f"unclear error: {exc!r}"
        return f"rejected ({reason.group()})"
    assert not _has_nonfinite(data), "non-finite input was accepted"
    labels = estimator.labels_
    n_samples = labels.shape[0]
    assert labels.dtype.kind == "i" and labels.min() >= 0 and labels.max() < n_clusters
    np.testing.assert_array_equal(estimator.predict(data), labels)
    proba = estimator.predict_proba(data)
    assert proba.shape == (n_samples, n_clusters) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-4)
    assert np.isfinite(estimator.cluster_centers_).all()
    assert np.isfinite(estimator.transform(data)).all()
    assert np.isfinite(estimator.score(data))
    return "fitted"


@_settings(max_examples=50)
@given(inputs(), st.sampled_from(VALID_DISSIMILARITIES))
def test_shallow_dmae_contract(case, dissimilarity):
    data, n_clusters = case
    estimator = DMAEClustering(
        n_clusters=n_clusters, dissimilarity=dissimilarity, random_state=0, **SHALLOW
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KMeans on duplicates, feature-name warnings
        outcome = _check_fit_contract(estimator, data, n_clusters)
    event(outcome)
    if _has_nonfinite(data):
        assert outcome.startswith("rejected")


@_settings(max_examples=40)
@given(inputs(), st.sampled_from(["graph", "autoencoder", "rff"]))
def test_tiny_deep_dmae_contract(case, pretrain):
    data, n_clusters = case
    estimator = DMAEClustering(
        n_clusters=n_clusters, pretrain=pretrain, random_state=0, **TINY_DEEP
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = _check_fit_contract(estimator, data, n_clusters)
    event(outcome)
    if _has_nonfinite(data):
        assert outcome.startswith("rejected")


@pytest.mark.parametrize("n_clusters", [2, 7])
def test_more_clusters_than_samples_is_rejected(n_clusters):
    with pytest.raises(ValueError, match="n_clusters"):
        DMAEClustering(n_clusters=n_clusters, **SHALLOW).fit(np.zeros((1, 3)))


# ---- metrics -----------------------------------------------------------------------------------
LABEL_KINDS = [
    "int8",
    "uint64",
    "int64",
    "float16",
    "float64",
    "bool",
    "str",
    "object",
    "category",
]


@st.composite
def labelings(draw):
    n = draw(st.integers(1, 20))
    kinds = [draw(st.sampled_from(LABEL_KINDS)) for _ in range(2)]
    out = []
    for kind in kinds:
        codes = np.array(draw(st.lists(st.integers(0, n), min_size=n, max_size=n)))
        if kind == "str":
            out.append(codes.astype(str))
        elif kind == "object":
            # Python ints in an object array (mixing ints and strings is a documented error).
            out.append(np.array([int(c) for c in codes], dtype=object))
        elif kind == "category":
            out.append(pd.Series(pd.Categorical(codes.astype(str))))
        else:
            out.append(codes.astype(kind))
    missing = draw(st.sampled_from([None, "nan", "None"]))
    if missing:
        i = draw(st.integers(0, n - 1))
        y = np.asarray(out[0], dtype=object if missing == "None" else np.float64)
        y[i] = None if missing == "None" else np.nan
        out[0] = y
    return out[0], out[1], missing


@_settings(max_examples=60)
@given(labelings())
def test_metrics_contract(case):
    y_true, y_pred, missing = case
    if missing:
        with pytest.raises(ValueError, match="missing label"):
            cluster_report(y_true, y_pred)
        return
    report = cluster_report(y_true, y_pred)
    assert 0.0 <= report["accuracy"] <= 1.0
    assert 0.0 <= report["nmi"] <= 1.0 + 1e-12
    assert -1.0 <= report["ari"] <= 1.0
    assert report["n_clusters"] == len(np.unique(np.asarray(y_pred)))
    assert sum(report["cluster_sizes"].values()) == len(y_pred)
    assert unsupervised_accuracy(y_true, y_true) == 1.0


def test_metrics_reject_pandas_na():
    with pytest.raises(ValueError, match="missing label"):
        unsupervised_accuracy(pd.Series([0, 1, pd.NA], dtype=object), [0, 1, 1])


def test_metrics_reject_nat():
    y_true = np.array(["2020-01-01", "NaT", "2021-01-01"], dtype="datetime64[D]")
    with pytest.raises(ValueError, match="missing label"):
        unsupervised_accuracy(y_true, [0, 1, 1])
    with pytest.raises(ValueError, match="missing label"):
        unsupervised_accuracy(pd.Series(y_true).astype(object), [0, 1, 1])


def test_metrics_accept_dates_and_nullable_integers():
    dates = np.array(["2020-01-01", "2021-01-01", "2021-01-01"], dtype="datetime64[D]")
    assert unsupervised_accuracy(dates, [0, 1, 1]) == 1.0
    assert unsupervised_accuracy(pd.array([0, 1, 1], dtype="Int64"), [1, 0, 0]) == 1.0
    with pytest.raises(ValueError, match="missing label"):
        unsupervised_accuracy(pd.array([0, 1, None], dtype="Int64"), [1, 0, 0])


# ---- numerical stability of the mixture layer ---------------------------------------------------
@_settings(max_examples=60)
@given(
    name=st.sampled_from(VALID_DISSIMILARITIES),
    log_alpha=st.floats(-3.0, 6.0),
    log_scale=st.sampled_from([-8, -4, 0, 4, 8]),
    far=st.booleans(),
    n_clusters=st.integers(1, 4),
    n_features=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_mixture_is_finite_at_every_scale(
    name, log_alpha, log_scale, far, n_clusters, n_features, seed
):
    """Finite assignments, loss and gradients for any alpha in [1e-3, 1e6] and code scale.

    Complements tests/test_mixture.py, which checks a fixed grid of alphas on unit-scale
    codes: here the codes and centres span 1e-8 to 1e8, may lie 1000 scales away from every
    centre (all assignments underflow), and K or d may be 1.
    """
    generator = torch.Generator().manual_seed(seed)
    scale = 10.0**log_scale
    mixture = DissimilarityMixture(n_clusters, n_features, name, 10.0**log_alpha)
    with torch.no_grad():
        mixture.centers.copy_(torch.randn(n_clusters, n_features, generator=generator) * scale)
    h = torch.randn(5, n_features, generator=generator) * scale + (1e3 * scale if far else 0.0)
    h.requires_grad_(True)
    S, D, log_pi = mixture(h)
    assert torch.isfinite(S).all() and torch.isfinite(D).all() and torch.isfinite(log_pi).all()
    torch.testing.assert_close(S.sum(1), torch.ones(5))
    loss = mixture.clustering_loss(h, S)
    assert torch.isfinite(loss)
    loss.backward()
    for tensor in (h, *mixture.parameters()):
        assert tensor.grad is None or torch.isfinite(tensor.grad).all()


# ---- known bugs ---------------------------------------------------------------------------------
def test_fit_on_a_dataframe_does_not_warn():
    frame = pd.DataFrame(np.random.RandomState(0).rand(30, 3), columns=["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        DMAEClustering(n_clusters=2, random_state=0, **SHALLOW).fit(frame)


def test_predict_proba_is_finite_far_outside_the_training_range():
    X = np.random.RandomState(0).rand(30, 3)
    est = DMAEClustering(n_clusters=2, random_state=0, **SHALLOW).fit(X)
    assert np.isfinite(est.predict_proba(X * 1e20)).all()


def test_huge_inputs_fit_or_fail_clearly():
    # The neighbour graph copes with any finite scale; the training then either succeeds or
    # stops with the documented FloatingPointError on a non-finite loss.
    X = np.random.RandomState(0).randn(20, 3) * 1e20
    est = DMAEClustering(n_clusters=2, random_state=0, **TINY_DEEP)
    try:
        est.fit(X)
    except FloatingPointError as exc:
        assert "loss became" in str(exc)


@pytest.mark.parametrize("scale", [1e-30, 1e20, 1e30])
def test_neighbors_are_scale_invariant(scale):
    X = np.random.RandomState(0).randn(40, 3)
    indices, distances = kneighbors(X, 5)
    scaled_indices, scaled_distances = kneighbors(X * scale, 5)
    np.testing.assert_array_equal(scaled_indices, indices)
    np.testing.assert_allclose(scaled_distances, distances * scale, rtol=1e-6)


def _run_python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_read_only_memmap_gives_no_torch_warning(tmp_path, dtype):
    # A subprocess: torch emits this warning once per process, so an earlier test could hide it.
    path = tmp_path / "X.dat"
    X = np.memmap(path, dtype=dtype, mode="w+", shape=(40, 3))
    X[:] = np.random.RandomState(0).rand(40, 3)
    X.flush()
    result = _run_python(
        f"""
        import numpy as np
        from skdeepclust import DMAEClustering
        X = np.memmap({str(path)!r}, dtype={dtype!r}, mode="r", shape=(40, 3))
        DMAEClustering(n_clusters=2, random_state=0, **{TINY_DEEP!r}).fit(X).predict(X)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "not writable" not in result.stderr


# ---- out-of-core memmaps -----------------------------------------------------------------------
@pytest.mark.parametrize("params", [TINY_DEEP, SHALLOW], ids=["deep", "shallow"])
def test_float64_memmap_is_not_copied(tmp_path, params):
    X = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=(40, 3))
    X[:] = np.random.RandomState(0).rand(40, 3)
    est = DMAEClustering(n_clusters=2, random_state=0, **params)
    validated = est._validate_X(X, reset=True)
    assert np.shares_memory(validated, X) and validated.dtype == np.float64
    est.fit(X)
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    assert est.transform(X).dtype == np.float32
    assert est.cluster_centers_.dtype == np.float32


MEMMAP_SHAPE = (330_000, 784)  # float32: 1.03 GB

_MEMMAP_CHILD = """
import json, resource, sys, threading, time, warnings
import numpy as np
from skdeepclust import DMAEClustering

warnings.simplefilter("ignore")
path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def rss_anon():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024

def max_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

est = DMAEClustering(n_clusters=3, autoencoder="mlp", pretrain="autoencoder", image_shape=None,
                     hidden_dims=(8,), latent_dim=2, pretrain_epochs=1, epochs=1,
                     batch_size=4096, n_init=1, random_state=0)
# Warm up on a small in-memory array so that lazy imports do not count.
est.fit(np.random.RandomState(0).rand(300, d).astype(np.float32))
X = np.memmap(path, dtype=np.float32, mode="r", shape=(n, d))
base_max, base_anon, peak_anon, done = max_rss(), rss_anon(), [0], [False]

def sample():
    while not done[0]:
        peak_anon[0] = max(peak_anon[0], rss_anon())
        time.sleep(0.005)

sampler = threading.Thread(target=sample)
sampler.start()
start = time.perf_counter()
est.fit(X)
fit_s = time.perf_counter() - start
labels = est.predict(X)
predict_s = time.perf_counter() - start - fit_s
done[0] = True
sampler.join()
print(json.dumps(dict(
    fit_s=fit_s, predict_s=predict_s, max_rss_growth=max_rss() - base_max,
    anon_growth=peak_anon[0] - base_anon, nbytes=X.nbytes,
    labels_ok=bool(labels.min() >= 0 and labels.max() < 3 and len(labels) == n),
)))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_memmap_fit_and_predict_do_not_copy_the_array(tmp_path):
    """Fit and predict a deep DMAE on a 1 GB float32 memmap without loading it into memory.

    Measured in a subprocess so that this process's memory history does not matter. Two
    figures: ``ru_maxrss`` counts the memmap's pages as they are read (file-backed pages that
    the kernel may drop at any time, not a copy), so it grows by up to the array size when
    every row is read and would grow by twice that with a copy; the peak anonymous memory
    (``RssAnon``, sampled every 5 ms) is what a copy would allocate, and must stay far below
    the array size. Takes about 20 s on one CPU core.
    """
    n, d = MEMMAP_SHAPE
    path = tmp_path / "X.dat"
    X = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, d))
    rng = np.random.default_rng(0)
    # Three clusters, one 4096-row block repeated: writing 1 GB of fresh randoms is slower.
    block = rng.integers(0, 3, (4096, 1)) + 0.3 * rng.random((4096, d), dtype=np.float32)
    for start in range(0, n, len(block)):
        X[start : start + len(block)] = block[: n - start]
    X.flush()
    del X
    try:
        result = _run_python(_MEMMAP_CHILD, str(path), str(n), str(d), timeout=300)
    finally:
        path.unlink()
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"memmap fit: {stats}")
    assert stats["labels_ok"]
    assert stats["anon_growth"] < 0.25 * stats["nbytes"]
    assert stats["max_rss_growth"] < 1.5 * stats["nbytes"]
