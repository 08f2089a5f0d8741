"""Loaders for MNIST and Fashion-MNIST, read from their original IDX files."""

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._fetch import download, get_data_home
from ._idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, read_idx

# Base URLs, tried in turn; a file's URL is the base followed by "<file>.gz".
MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",)
FASHION_MNIST_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
)

# SHA-256 digests of the original "<name>.gz" files served by the mirrors
# above (Zalando Research publishes MD5 digests only; these SHA-256 values are
# those of the same files, as recorded by TensorFlow Datasets).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}

# Read-only folders searched after data_home, e.g. where Debian's
# dataset-fashion-mnist package installs the four gzip files. Files found
# locally are not checksummed: Debian recompresses them, so their digests
# differ from the originals, and the IDX reader validates their structure.
MNIST_SYSTEM_DIRS: tuple[str, ...] = ()
FASHION_MNIST_SYSTEM_DIRS = ("/usr/share/datasets/fashion-mnist",)

_SUBSET_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_SUBSETS = {"all": ("train", "test"), "train": ("train",), "test": ("test",)}

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_MNIST_DESCR = """\
MNIST handwritten digits
------------------------

70,000 grayscale images of 28x28 pixels of handwritten digits 0 to 9:
60,000 training images followed by 10,000 test images. Pixel intensities are
scaled to [0, 1]; the images are size-normalised and centred.

Source: Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
handwritten digits" (1998). Files from the mirror
https://ossci-datasets.s3.amazonaws.com/mnist/.
"""

_FASHION_MNIST_DESCR = """\
Fashion-MNIST
-------------

70,000 grayscale images of 28x28 pixels of Zalando fashion articles in 10
classes (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker,
Bag, Ankle boot), 7,000 per class: 60,000 training images followed by 10,000
test images. Pixel intensities are scaled to [0, 1]. It is a drop-in,
harder replacement for MNIST.

Source: H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a Novel Image
Dataset for Benchmarking Machine Learning Algorithms", arXiv:1708.07747
(2017). https://github.com/zalandoresearch/fashion-mnist (MIT licence).
"""


def _find_or_download(
    filename: str,
    folder: Path,
    *,
    system_dirs: Sequence[str],
    urls: Sequence[str],
    sha256: Mapping[str, str],
    download_if_missing: bool,
    title: str,
) -> Path:
    """Locate ``filename`` or ``filename.gz``, downloading the latter if absent."""
    search_dirs = [folder, *map(Path, system_dirs)]
    for directory in search_dirs:
        for name in (filename, f"{filename}.gz"):
            if (directory / name).is_file():
                return directory / name

    where = ", ".join(str(d) for d in search_dirs)
    hint = f"Put {filename}.gz (or {filename} uncompressed) in {folder} to use it offline."
    if not download_if_missing:
        raise OSError(
            f"{title} file {filename} not found in {where} and download_if_missing=False. {hint}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    archive = f"{filename}.gz"
    errors = []
    for base_url in urls:
        url = base_url + archive
        try:
            return download(url, folder / archive, sha256[filename])
        except OSError as exc:
            errors.append(f"  {url}: {exc}")
    raise OSError(
        f"{title} file {archive} could not be downloaded:\n" + "\n".join(errors) + f"\n{hint}"
    )


def _load_idx_dataset(
    subset: str,
    *,
    name: str,
    title: str,
    system_dirs: Sequence[str],
    urls: Sequence[str],
    sha256: Mapping[str, str],
    data_home: str | os.PathLike | None,
    download_if_missing: bool,
    return_X_y: bool,
    target_names: np.ndarray,
    descr: str,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be 'all', 'train' or 'test', got {subset!r}.")
    folder = Path(get_data_home(data_home)) / name

    images_parts, labels_parts = [], []
    for part in _SUBSETS[subset]:
        images_file, labels_file = (
            _find_or_download(
                filename,
                folder,
                system_dirs=system_dirs,
                urls=urls,
                sha256=sha256,
                download_if_missing=download_if_missing,
                title=title,
            )
            for filename in _SUBSET_FILES[part]
        )
        images = read_idx(images_file, expected_magic=IDX_IMAGES_MAGIC)
        labels = read_idx(labels_file, expected_magic=IDX_LABELS_MAGIC)
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{images_file} holds {images.shape[0]} images but {labels_file} holds "
                f"{labels.shape[0]} labels."
            )
        if images_parts and images.shape[1:] != images_parts[0].shape[1:]:
            raise ValueError(
                f"{images_file} holds images of shape {images.shape[1:]}, unlike the "
                f"{images_parts[0].shape[1:]} training images."
            )
        images_parts.append(images)
        labels_parts.append(labels)

    # Concatenate as uint8 before converting, to allocate the float copy once.
    images = np.concatenate(images_parts).astype(np.float32)
    images /= 255
    target = np.concatenate(labels_parts).astype(np.int64)
    data = images.reshape(images.shape[0], -1)
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, images=images, target_names=target_names, DESCR=descr)


def load_mnist(
    subset: str = "all",
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the MNIST handwritten digits dataset (classification, 10 classes).

    =================   ==============
    Classes                         10
    Samples total                70000
    Dimensionality                 784
    Features            real, [0, 1]
    =================   ==============

    The four IDX files (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``, each gzipped with a ``.gz`` suffix or not) are
    read from ``data_home/mnist/``. Missing files are downloaded there (as
    ``.gz``) and checked against their known SHA-256 digests.

    Parameters
    ----------
    subset : {"all", "train", "test"}, default="all"
        Which images to load: the 60,000 training images, the 10,000 test
        images, or both, training first.
    data_home : str or path-like, default=None
        Data folder, see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, raise an ``OSError`` instead of downloading missing files.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        With the attributes:

        data : ndarray of shape (n_samples, 784), dtype float32
            Flattened images, a view of ``images``.
        target : ndarray of shape (n_samples,), dtype int64
            Digit of each image, 0 to 9.
        images : ndarray of shape (n_samples, 28, 28), dtype float32
            Pixel intensities in [0, 1].
        target_names : ndarray of shape (10,)
            The digits 0 to 9.
        DESCR : str
            Description of the dataset.

    (data, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If ``subset`` is invalid or a file is corrupt or truncated.
    OSError
        If a file is missing and cannot be downloaded.

    See Also
    --------
    load_fashion_mnist : Same format, with images of clothes.

    Examples
    --------
    >>> from skdeepclust.datasets import load_mnist
    >>> mnist = load_mnist(subset="test")  # doctest: +SKIP
    >>> mnist.data.shape, mnist.images.shape  # doctest: +SKIP
    ((10000, 784), (10000, 28, 28))
    """
    return _load_idx_dataset(
        subset,
        name="mnist",
        title="MNIST",
        system_dirs=MNIST_SYSTEM_DIRS,
        urls=MNIST_URLS,
        sha256=MNIST_SHA256,
        data_home=data_home,
        download_if_missing=download_if_missing,
        return_X_y=return_X_y,
        target_names=np.arange(10),
        descr=_MNIST_DESCR,
    )


def load_fashion_mnist(
    subset: str = "all",
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the Fashion-MNIST dataset (classification, 10 classes).

    =================   ==============
    Classes                         10
    Samples total                70000
    Dimensionality                 784
    Features            real, [0, 1]
    =================   ==============

    The four IDX files (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``, each gzipped with a ``.gz`` suffix or not) are
    read from ``data_home/fashion_mnist/``, then from
    ``/usr/share/datasets/fashion-mnist/`` where Debian's
    ``dataset-fashion-mnist`` package installs them. Missing files are
    downloaded to ``data_home/fashion_mnist/`` (as ``.gz``) and checked
    against their known SHA-256 digests.

    Parameters
    ----------
    subset : {"all", "train", "test"}, default="all"
        Which images to load: the 60,000 training images, the 10,000 test
        images, or both, training first.
    data_home : str or path-like, default=None
        Data folder, see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, raise an ``OSError`` instead of downloading missing files.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        With the attributes:

        data : ndarray of shape (n_samples, 784), dtype float32
            Flattened images, a view of ``images``.
        target : ndarray of shape (n_samples,), dtype int64
            Class of each image, 0 to 9.
        images : ndarray of shape (n_samples, 28, 28), dtype float32
            Pixel intensities in [0, 1].
        target_names : ndarray of shape (10,)
            Class names, "T-shirt/top" to "Ankle boot".
        DESCR : str
            Description of the dataset.

    (data, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If ``subset`` is invalid or a file is corrupt or truncated.
    OSError
        If a file is missing and cannot be downloaded.

    See Also
    --------
    load_mnist : Same format, with handwritten digits.

    Examples
    --------
    >>> from skdeepclust.datasets import load_fashion_mnist
    >>> X, y = load_fashion_mnist(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype, y.dtype  # doctest: +SKIP
    ((70000, 784), dtype('float32'), dtype('int64'))
    """
    return _load_idx_dataset(
        subset,
        name="fashion_mnist",
        title="Fashion-MNIST",
        system_dirs=FASHION_MNIST_SYSTEM_DIRS,
        urls=FASHION_MNIST_URLS,
        sha256=FASHION_MNIST_SHA256,
        data_home=data_home,
        download_if_missing=download_if_missing,
        return_X_y=return_X_y,
        target_names=np.array(FASHION_MNIST_CLASSES),
        descr=_FASHION_MNIST_DESCR,
    )
