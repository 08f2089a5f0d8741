import gzip
import hashlib
import http.client
import io
import urllib.request

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils import Bunch

import skdeepclust.datasets._fetch as fetch_module
from skdeepclust.datasets import (
    _mnist,
    _reuters,
    get_data_home,
    load_fashion_mnist,
    load_mnist,
    load_reuters10k,
    make_blobs8,
    make_pinwheel,
    make_two_circles,
)
from skdeepclust.datasets._idx import read_idx
from skdeepclust.datasets._synthetic import BLOBS8_CENTERS

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
N_SAMPLES = {"train": 6, "test": 4}


def idx_bytes(array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_dataset(folder, *, gz=True, seed=0):
    """Write tiny train and test IDX files; return the arrays they hold."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for part, (images_name, labels_name) in FILES.items():
        images = rng.integers(0, 256, size=(N_SAMPLES[part], 28, 28), dtype=np.uint8)
        images[0, 0, 0], images[0, 0, 1] = 0, 255
        labels = rng.integers(0, 10, size=N_SAMPLES[part], dtype=np.uint8)
        for name, array in ((images_name, images), (labels_name, labels)):
            content = idx_bytes(array)
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(content))
            else:
                (folder / name).write_bytes(content)
        arrays[part] = images, labels
    return arrays


@pytest.fixture
def no_system_dirs(monkeypatch):
    # The Debian Fashion-MNIST package may be installed on the test machine.
    monkeypatch.setattr(_mnist, "FASHION_MNIST_SYSTEM_DIRS", ())


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """Serve tiny gzipped MNIST files from a file:// URL with correct digests."""
    server = tmp_path / "server"
    arrays = write_dataset(server, gz=True)
    digests = {
        path.name.removesuffix(".gz"): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in server.iterdir()
    }
    monkeypatch.setattr(_mnist, "MNIST_URLS", (server.as_uri() + "/",))
    monkeypatch.setattr(_mnist, "MNIST_SHA256", digests)
    return arrays


def test_get_data_home(tmp_path, monkeypatch):
    assert get_data_home(tmp_path / "a" / "b") == str(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()
    monkeypatch.setenv("SKDEEPCLUST_DATA", str(tmp_path / "env"))
    assert get_data_home() == str(tmp_path / "env")
    monkeypatch.delenv("SKDEEPCLUST_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == str(tmp_path / "home" / "skdeepclust_data")
    assert (tmp_path / "home" / "skdeepclust_data").is_dir()


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("subset", ["all", "train", "test"])
def test_load_mnist_from_files(tmp_path, gz, subset):
    arrays = write_dataset(tmp_path / "mnist", gz=gz)
    parts = ["train", "test"] if subset == "all" else [subset]
    expected_images = np.concatenate([arrays[p][0] for p in parts])
    expected_labels = np.concatenate([arrays[p][1] for p in parts])

    bunch = load_mnist(subset, data_home=tmp_path, download_if_missing=False)
    assert isinstance(bunch, Bunch)
    n = len(expected_labels)
    assert bunch.images.shape == (n, 28, 28) and bunch.images.dtype == np.float32
    assert bunch.data.shape == (n, 784) and bunch.data.dtype == np.float32
    assert bunch.target.shape == (n,) and bunch.target.dtype == np.int64
    assert bunch.data.min() == 0.0 and bunch.data.max() == 1.0
    np.testing.assert_allclose(bunch.images * 255, expected_images, atol=1e-4)
    np.testing.assert_array_equal(bunch.data, bunch.images.reshape(n, -1))
    np.testing.assert_array_equal(bunch.target, expected_labels)
    np.testing.assert_array_equal(bunch.target_names, np.arange(10))
    assert "MNIST" in bunch.DESCR

    X, y = load_mnist(subset, data_home=tmp_path, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)


def test_load_fashion_mnist_system_dir(tmp_path, monkeypatch):
    system = tmp_path / "usr-share"
    arrays = write_dataset(system, gz=True, seed=1)
    monkeypatch.setattr(_mnist, "FASHION_MNIST_SYSTEM_DIRS", (str(system),))
    home = tmp_path / "home"

    bunch = load_fashion_mnist("test", data_home=home, download_if_missing=False)
    np.testing.assert_array_equal(bunch.target, arrays["test"][1])
    assert bunch.target_names[0] == "T-shirt/top" and len(bunch.target_names) == 10
    assert not (home / "fashion_mnist").exists()

    # Files in data_home take precedence, even uncompressed next to a .gz elsewhere.
    own = write_dataset(home / "fashion_mnist", gz=False, seed=2)
    _, y = load_fashion_mnist("test", data_home=home, return_X_y=True)
    np.testing.assert_array_equal(y, own["test"][1])


def test_invalid_subset(tmp_path):
    with pytest.raises(ValueError, match="subset must be 'all', 'train' or 'test'"):
        load_mnist("validation", data_home=tmp_path)


def test_read_idx_other_types(tmp_path):
    array = np.arange(-3, 3, dtype=">i2").reshape(2, 3)
    (tmp_path / "x.idx").write_bytes(idx_bytes(array, type_code=0x0B))
    result = read_idx(tmp_path / "x.idx")
    np.testing.assert_array_equal(result, array)
    assert result.dtype == np.dtype(">i2")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            idx_bytes(np.zeros((2, 28, 28), np.uint8)),
            "magic number 0x00000803, expected 0x00000801",
        ),
        (idx_bytes(np.zeros(4, np.uint8))[:-1], r"truncated.*shape \(4,\)"),
        (idx_bytes(np.zeros(4, np.uint8)) + b"\0", r"corrupt.*shape \(4,\)"),
        (idx_bytes(np.zeros(4, np.uint8))[:6], "truncated: its IDX header"),
        (b"<html>not found</html>", "is not an IDX file"),
        (b"", "is not an IDX file"),
        (gzip.compress(idx_bytes(np.zeros(4, np.uint8)))[:-6], "Cannot decompress"),
    ],
)
def test_corrupt_files(tmp_path, content, match):
    write_dataset(tmp_path / "mnist", gz=False)
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as excinfo:
        load_mnist("test", data_home=tmp_path, download_if_missing=False)
    assert str(path) in str(excinfo.value)


def test_labels_images_count_mismatch(tmp_path):
    write_dataset(tmp_path / "mnist", gz=False)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(ValueError, match=r"holds 4 images but .* holds 3 labels"):
        load_mnist("test", data_home=tmp_path)


def test_download_and_cache(tmp_path, mirror, monkeypatch):
    home = tmp_path / "home"
    bunch = load_mnist(data_home=home)
    np.testing.assert_array_equal(
        bunch.target, np.concatenate([mirror["train"][1], mirror["test"][1]])
    )
    cached = sorted(p.name for p in (home / "mnist").iterdir())
    assert cached == sorted(f"{name}.gz" for pair in FILES.values() for name in pair)

    # Cached files are used without network.
    monkeypatch.setattr(_mnist, "MNIST_URLS", ())
    _, y = load_mnist("test", data_home=home, download_if_missing=False, return_X_y=True)
    np.testing.assert_array_equal(y, mirror["test"][1])


def test_download_falls_back_to_next_mirror(tmp_path, mirror, monkeypatch):
    missing = (tmp_path / "nowhere").as_uri() + "/"
    monkeypatch.setattr(_mnist, "MNIST_URLS", (missing, *_mnist.MNIST_URLS))
    _, y = load_mnist("test", data_home=tmp_path / "home", return_X_y=True)
    np.testing.assert_array_equal(y, mirror["test"][1])


def test_download_wrong_checksum_leaves_nothing(tmp_path, mirror, monkeypatch):
    monkeypatch.setitem(_mnist.MNIST_SHA256, "t10k-labels-idx1-ubyte", "0" * 64)
    home = tmp_path / "home"
    with pytest.raises(OSError, match=r"(?s)could not be downloaded.*SHA-256.*instead of") as exc:
        load_mnist("test", data_home=home)
    assert str(home / "mnist") in str(exc.value)
    # Only the good file downloaded before the failure remains, no temporary file.
    assert [p.name for p in (home / "mnist").iterdir()] == ["t10k-images-idx3-ubyte.gz"]


def test_interrupted_download_leaves_nothing(tmp_path, mirror, monkeypatch):
    class BrokenResponse(io.BytesIO):
        def read(self, size=-1):
            raise http.client.IncompleteRead(b"partial", 100)

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: BrokenResponse())
    home = tmp_path / "home"
    with pytest.raises(OSError, match="Incomplete download"):
        load_mnist("test", data_home=home)
    assert list((home / "mnist").iterdir()) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/", "file:///nonexistent/folder/"])
def test_download_unreachable(tmp_path, mirror, monkeypatch, url):
    monkeypatch.setattr(_mnist, "MNIST_URLS", (url,))
    monkeypatch.setattr(fetch_module, "DOWNLOAD_TIMEOUT", 5)
    home = tmp_path / "home"
    with pytest.raises(OSError, match=r"MNIST file t10k-images-idx3-ubyte\.gz could not be"):
        load_mnist("test", data_home=home)
    assert list((home / "mnist").iterdir()) == []


def test_download_if_missing_false(tmp_path, no_system_dirs, monkeypatch):
    opened = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: opened.append(a))
    with pytest.raises(OSError, match=r"download_if_missing=False. Put train-images"):
        load_fashion_mnist(data_home=tmp_path, download_if_missing=False)
    assert opened == []


def fake_rcv1(n_docs=60, n_features=12, seed=0):
    rng = np.random.default_rng(seed)
    names = np.array(["C15", "CCAT", "E21", "ECAT", "GCAT", "MCAT"])
    topics = np.zeros((n_docs, len(names)), dtype=np.uint8)
    top = rng.integers(1, 5, size=n_docs)  # Column of CCAT/ECAT/GCAT/MCAT, or 2 (E21).
    top[top == 2] = 5
    topics[np.arange(n_docs), top] = 1
    topics[::7, 0] = 1  # Subtopics do not matter.
    topics[1::5, 4] = 1  # Second top topic: excluded, unless it was already GCAT.
    topics[2::9, [1, 3, 4, 5]] = 0  # No top topic: excluded.
    excluded = topics[:, [1, 3, 4, 5]].sum(axis=1) != 1
    # Among kept documents, term j < n_features - 1 occurs in a fraction
    # (j + 1) / (n_features - 1), so that every document has one of the
    # frequent terms; the last term is absent. Excluded documents hold the
    # first 6 terms and the last one, which changes the most frequent terms
    # over all documents.
    n_kept = np.sum(~excluded)
    kept_rank = np.where(excluded, n_docs, np.cumsum(~excluded) - 1)
    mask = kept_rank[:, None] < np.ceil(n_kept * np.arange(1, n_features + 1) / (n_features - 1))
    mask[:, -1] = False
    mask[np.ix_(excluded, [0, 1, 2, 3, 4, 5, n_features - 1])] = True
    dense = (rng.random((n_docs, n_features)) + 0.1) * mask
    bunch = Bunch(
        data=sp.csr_matrix(dense),
        target=sp.csr_matrix(topics),
        target_names=names,
        sample_id=np.arange(n_docs) + 1000,
    )
    return bunch, dense, topics, excluded


@pytest.fixture
def rcv1(tmp_path, monkeypatch):
    bunch, dense, topics, excluded = fake_rcv1()
    calls = []

    def fetch(**kwargs):
        calls.append(kwargs)
        return bunch

    monkeypatch.setattr(_reuters, "fetch_rcv1", fetch)
    monkeypatch.setattr(_reuters, "N_TERMS", 5)
    return dense, topics, excluded, calls


def test_reuters10k(tmp_path, rcv1):
    dense, topics, excluded, calls = rcv1
    bunch = load_reuters10k(data_home=tmp_path, n_samples=20, download_if_missing=False)
    assert calls == [{"data_home": str(tmp_path), "download_if_missing": False}]

    assert sp.issparse(bunch.data) and bunch.data.format == "csr"
    assert bunch.data.shape == (20, 5) and bunch.data.dtype == np.float32
    assert bunch.target.dtype == np.int64 and set(bunch.target) <= {0, 1, 2, 3}
    assert list(bunch.target_names) == ["CCAT", "GCAT", "MCAT", "ECAT"]
    np.testing.assert_allclose(sp.linalg.norm(bunch.data, axis=1), 1, rtol=1e-6)

    docs = bunch.sample_id - 1000
    assert len(set(docs)) == 20 and not excluded[docs].any()
    topic_columns = {"CCAT": 1, "GCAT": 4, "MCAT": 5, "ECAT": 3}
    for doc, label in zip(docs, bunch.target):
        assert topics[doc, topic_columns[bunch.target_names[label]]] == 1
    # The 5 terms most frequent among kept documents, not over all documents.
    np.testing.assert_array_equal(bunch.feature_indices, [6, 7, 8, 9, 10])
    all_doc_freq = (dense != 0).sum(axis=0)
    assert all_doc_freq[5] > all_doc_freq[6]
    rows = dense[np.ix_(docs, bunch.feature_indices)]
    expected = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    np.testing.assert_allclose(bunch.data.toarray(), expected, rtol=1e-6)


def test_reuters10k_random_state_and_sizes(rcv1):
    _, _, excluded, _ = rcv1
    X1, y1 = load_reuters10k(n_samples=15, random_state=3, return_X_y=True)
    X2, y2 = load_reuters10k(n_samples=15, random_state=3, return_X_y=True)
    X3, _ = load_reuters10k(n_samples=15, random_state=4, return_X_y=True)
    assert (X1 != X2).nnz == 0 and np.array_equal(y1, y2)
    assert (X1 != X3).nnz > 0
    X_all, _ = load_reuters10k(n_samples=None, return_X_y=True)
    assert X_all.shape == ((~excluded).sum(), 5)
    with pytest.raises(ValueError, match=r"exceeds the .* single-topic documents"):
        load_reuters10k(n_samples=(~excluded).sum() + 1)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        load_reuters10k(n_samples=0)


def test_make_pinwheel():
    X, y = make_pinwheel(103, n_classes=5, random_state=0)
    assert X.shape == (103, 2) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [21, 21, 21, 20, 20])
    X2, y2 = make_pinwheel(103, n_classes=5, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make_pinwheel(103, n_classes=5, random_state=1)[0])

    X, y = make_pinwheel(500, n_classes=4, shuffle=False, random_state=0)
    assert np.all(np.diff(y) >= 0)
    # Arms start near radius 10, at angles -2 pi k / n_classes - rate * e.
    radius = np.linalg.norm(X, axis=1)
    assert 8 < np.median(radius) < 12
    inner = radius < 10
    angles = np.arctan2(X[inner, 1], X[inner, 0])
    expected = -2 * np.pi * y[inner] / 4 - 0.25 * np.e
    assert np.all(np.abs(np.angle(np.exp(1j * (angles - expected)))) < 0.5)


@pytest.mark.parametrize("params", [{"n_classes": 0}, {"radial_std": -1.0}, {"n_samples": 2.5}])
def test_make_pinwheel_invalid(params):
    with pytest.raises(ValueError, match="must be a"):
        make_pinwheel(**params)


def test_make_blobs8():
    X, y = make_blobs8(800, random_state=0)
    assert X.shape == (800, 2) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [100] * 8)
    means = np.array([X[y == k].mean(axis=0) for k in range(8)])
    np.testing.assert_allclose(means, BLOBS8_CENTERS, atol=0.5)
    np.testing.assert_array_equal(X, make_blobs8(800, random_state=0)[0])


@pytest.mark.parametrize(
    "params, inner, noise",
    [({}, 0.1, 0.1), ({"factor": 0.5, "noise": 0.05}, 0.5, 0.05)],
    ids=["authors", "rings"],
)
def test_make_two_circles(params, inner, noise):
    X, y = make_two_circles(400, random_state=0, **params)
    assert X.shape == (400, 2) and X.dtype == np.float64 and y.dtype == np.int64
    # The noise is isotropic in 2-D, so the points spread about the outer circle's radius by
    # about ``noise``; the inner circle's mean radius is inflated by it (hence the tolerance).
    radius = np.linalg.norm(X, axis=1)
    assert abs(radius[y == 0].mean() - 1.0) < 0.05
    assert abs(radius[y == 0].std() - noise) < 0.02
    assert abs(radius[y == 1].mean() - inner) < 0.06
    np.testing.assert_array_equal(X, make_two_circles(400, random_state=0, **params)[0])
