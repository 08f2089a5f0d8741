"""Reader for the IDX format of the MNIST family of datasets.

An IDX file is a 4-byte magic number ``0x0000TTNN`` (``TT`` the element type,
``NN`` the number of dimensions), ``NN`` big-endian 32-bit dimension sizes,
then the elements in C order, big-endian.
"""

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

IDX_LABELS_MAGIC = 0x00000801
IDX_IMAGES_MAGIC = 0x00000803

_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# IDX files start with two zero bytes, so they can never be taken for gzip.
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike, *, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not.

    Compression is detected from the file content, not from its name.

    Parameters
    ----------
    path : str or path-like
        File to read.
    expected_magic : int, default=None
        If given, the magic number the file must have, e.g.
        ``0x00000803`` for unsigned-byte 3-D arrays (images) or ``0x00000801``
        for unsigned-byte 1-D arrays (labels).

    Returns
    -------
    array : ndarray
        Read-only array with the shape and element type given by the header.

    Raises
    ------
    ValueError
        If the file is not a valid IDX file, has an unexpected magic number,
        or its size disagrees with its header (truncated or corrupt file), or
        if its gzip stream is corrupt. The message names the file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skdeepclust.datasets._idx import read_idx
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "labels-idx1-ubyte"
    ...     _ = path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    ...     read_idx(path, expected_magic=0x00000801)
    array([7, 2, 1], dtype=uint8)
    """
    raw = Path(path).read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(
                f"Cannot decompress {path}: the gzip file is corrupt or truncated ({exc})."
            ) from exc

    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{path} is not an IDX file: it starts with bytes 0x{raw[:4].hex()} instead of "
            "a magic number 0x0000TTNN with a known element type TT."
        )
    magic = int.from_bytes(raw[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(
            f"{path} has IDX magic number 0x{magic:08X}, expected 0x{expected_magic:08X}: "
            "wrong or corrupt file."
        )

    ndim = raw[3]
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"{path} is truncated: its IDX header is incomplete.")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[raw[2]]
    expected_size = math.prod(shape) * dtype.itemsize
    actual_size = len(raw) - header_size
    if actual_size != expected_size:
        state = "truncated" if actual_size < expected_size else "corrupt"
        raise ValueError(
            f"{path} is {state}: its header announces an array of shape {shape} "
            f"({expected_size} bytes of data) but the file holds {actual_size} bytes of data."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
