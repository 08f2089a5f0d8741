"""Data folder, download and checksum helpers shared by the dataset loaders."""

import hashlib
import os
import tempfile
import urllib.request
from http.client import HTTPException
from pathlib import Path

DATA_HOME_ENV = "SKDEEPCLUST_DATA"
DEFAULT_DATA_HOME = "~/skdeepclust_data"

# Seconds without any data from the server before giving up on a mirror.
DOWNLOAD_TIMEOUT = 60

_CHUNK_SIZE = 1 << 20


def get_data_home(data_home: str | os.PathLike | None = None) -> str:
    """Return the path of the skdeepclust data folder, creating it if needed.

    Datasets are cached there so that they are downloaded only once. The
    folder is, by order of precedence, ``data_home`` if given, the value of
    the ``SKDEEPCLUST_DATA`` environment variable if set, or
    ``~/skdeepclust_data``. A leading ``~`` is expanded to the user's home.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder to use instead of the default one.

    Returns
    -------
    data_home : str
        Absolute path of the data folder, which exists on return.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skdeepclust.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     Path(get_data_home(Path(tmp) / "data")).is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV, DEFAULT_DATA_HOME)
    path = Path(data_home).expanduser().absolute()
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def sha256sum(path: str | os.PathLike) -> str:
    """Return the hexadecimal SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, path: str | os.PathLike, sha256: str) -> Path:
    """Download ``url`` to ``path``, verifying its SHA-256 digest.

    The data is written to a temporary file in the destination folder, checked
    and only then renamed to ``path``, so that an interrupted or corrupted
    download never leaves a file that could later be mistaken for a good one.

    Parameters
    ----------
    url : str
        Any URL that :func:`urllib.request.urlopen` accepts.
    path : str or path-like
        Destination file; its folder must exist.
    sha256 : str
        Expected hexadecimal SHA-256 digest of the file.

    Returns
    -------
    path : Path
        The destination file.

    Raises
    ------
    OSError
        If the download fails (``urllib.error.URLError`` for network errors)
        or if the digest differs from ``sha256``; no file is left behind.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        digest = hashlib.sha256()
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response,
        ):
            while chunk := response.read(_CHUNK_SIZE):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256.lower():
            raise OSError(
                f"The file downloaded from {url} has SHA-256 {digest.hexdigest()} "
                f"instead of the expected {sha256}: it is corrupted or has changed upstream."
            )
        # mkstemp makes files private to their owner; a cache file is not secret.
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except HTTPException as exc:
        # Truncated HTTP responses raise http.client errors, which are not OSErrors.
        Path(tmp_name).unlink(missing_ok=True)
        raise OSError(f"Incomplete download from {url}: {exc!r}") from exc
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
