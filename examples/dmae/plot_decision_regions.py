"""
Cluster shapes of Minkowski dissimilarities
===========================================

The dissimilarity ``V`` of a DMAE decides the shape of its clusters. Fitted on raw 2-D data
(the shallow DMAE, ``autoencoder=None``), the regions where each component wins are the Voronoi
cells of ``V``: straight bisectors for the euclidean distance (``p=2``), diagonal and axis
aligned pieces for the Manhattan distance (``p=1``), and cells that approach squares for large
``p`` (Chebyshev, ``p=inf``). This reproduces Fig. 2 of the DMAE paper on its eight-blob data.
"""

# %%
import os

import matplotlib.pyplot as plt

from skdeepclust import DMAEClustering
from skdeepclust.datasets import make_blobs8
from skdeepclust.plotting import plot_decision_regions

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

X, y = make_blobs8(n_samples=300 if SMOKE else 1000, random_state=0)

# %%
# One shallow DMAE per dissimilarity, with the paper's settings (8 components, ``alpha=100``,
# Adam with lr 1e-3 and batches of 32, the shallow defaults). All start from the same KMeans
# centres (``init="kmeans"``), so that the differences come from the dissimilarities alone;
# their default, k-medoids, merged two blobs for some seeds. The colour of each sample is its
# true blob, in the colour of the cluster matched to it: a sample whose colour differs from
# its region is misclustered.
settings = {
    "manhattan (p=1)": dict(dissimilarity="minkowski", dissimilarity_params={"p": 1}),
    "euclidean (p=2)": dict(dissimilarity="minkowski", dissimilarity_params={"p": 2}),
    "minkowski (p=3)": dict(dissimilarity="minkowski", dissimilarity_params={"p": 3}),
    "chebyshev (p=inf)": dict(dissimilarity="chebyshev"),
}
fig, axes = plt.subplots(2, 2, figsize=(9, 8), layout="constrained")
for ax, (title, params) in zip(axes.flat, settings.items()):
    est = DMAEClustering(
        n_clusters=8,
        autoencoder=None,
        alpha=100.0,
        init="kmeans",
        epochs=2 if SMOKE else 20,
        random_state=0,
        **params,
    ).fit(X)
    plot_decision_regions(est, X, y, resolution=100 if SMOKE else 300, ax=ax)
    ax.set_title(title)
