"""
A custom dissimilarity
======================

Besides the built-in names (see :mod:`skdeepclust.dissimilarities`), ``dissimilarity`` accepts
any differentiable function ``V(H, C)`` on torch tensors that returns the ``(B, K)`` matrix of
dissimilarities between ``B`` codes ``H`` and ``K`` centres ``C``. Extra keyword arguments come
from ``dissimilarity_params``, so they can be tuned by grid search like any parameter.

Here a weighted euclidean distance counts vertical differences ``sqrt(ratio)`` times more than
horizontal ones: its balls are ellipses flattened vertically, so the boundaries between
clusters turn towards the horizontal.
"""

# %%
import os

import matplotlib.pyplot as plt
import torch

from skdeepclust import DMAEClustering
from skdeepclust.datasets import make_blobs8
from skdeepclust.dissimilarities import pairwise_dissimilarity
from skdeepclust.plotting import plot_decision_regions

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs


def weighted_euclidean(H, C, ratio=1.0):
    """Euclidean distance with the squared differences of the second coordinate times ``ratio``."""
    weights = torch.tensor([1.0, ratio], dtype=H.dtype, device=H.device)
    differences = H[:, None, :] - C[None, :, :]  # (B, K, d) by broadcasting
    # The small constant keeps the gradient of the square root finite at distance 0.
    return torch.sqrt((weights * differences**2).sum(-1) + 1e-12)


# %%
# Check the function on a few points before training with it:
H = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
C = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
print(pairwise_dissimilarity(H, C, weighted_euclidean, ratio=4.0))

# %%
# Fit shallow DMAEs on the eight blobs with ``ratio`` 1 (the plain euclidean distance) and 8.
# A callable is initialised with k-medoids computed with the function itself.
X, y = make_blobs8(n_samples=300 if SMOKE else 1000, random_state=0)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
for ax, ratio in zip(axes, [1.0, 8.0]):
    est = DMAEClustering(
        n_clusters=8,
        autoencoder=None,
        dissimilarity=weighted_euclidean,
        dissimilarity_params={"ratio": ratio},
        alpha=100.0,
        epochs=2 if SMOKE else 20,
        random_state=0,
    ).fit(X)
    plot_decision_regions(est, X, y, resolution=100 if SMOKE else 300, ax=ax)

# %%
# .. note::
#
#    A pickled estimator refers to its function by module and name, so define the function at
#    the top level of an importable module to load the estimator elsewhere (not in a notebook
#    cell or a ``__main__`` script). Internally the loss needs ``V(h_i, c_i)`` for one centre per
#    sample; for a callable it is the diagonal of ``V(H, C)``, which costs ``O(B^2)`` per batch.
