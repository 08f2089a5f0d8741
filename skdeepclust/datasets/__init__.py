"""Benchmark datasets for deep clustering.

Loaders for the image and text benchmarks of the deep clustering literature
(MNIST, Fashion-MNIST, Reuters-10K), which cache downloads under
:func:`get_data_home`, and generators for the two-dimensional toy datasets of
the DMAE paper. Like :mod:`sklearn.datasets`, loaders return a
:class:`~sklearn.utils.Bunch` or, with ``return_X_y=True``, a ``(data,
target)`` tuple, and generators return ``(X, y)``.
"""

from ._fetch import get_data_home
from ._mnist import load_fashion_mnist, load_mnist
from ._reuters import load_reuters10k
from ._synthetic import make_blobs8, make_pinwheel, make_two_circles

__all__ = [
    "get_data_home",
    "load_fashion_mnist",
    "load_mnist",
    "load_reuters10k",
    "make_blobs8",
    "make_pinwheel",
    "make_two_circles",
]
