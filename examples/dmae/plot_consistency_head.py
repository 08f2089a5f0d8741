"""
A consistency head for clusters that are not convex
===================================================

The mixture assigns each sample to its nearest component, so its clusters are the Voronoi cells
of the dissimilarity: convex in the space it clusters. Two moons are not convex, and the
shallow euclidean DMAE cuts both of them. ``head="consistency"`` (beyond the paper) trains an
MLP on the same features with SCAN's loss over the data's nearest-neighbour graph: the two ends
of an edge should fall in the same cluster, and a balance term keeps both clusters in use. Its
regions can follow the moons. The colour of each sample is its true moon, in the colour of the
cluster matched to it: a sample whose colour differs from its region is misclustered.
"""

# %%
import os

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons

from skdeepclust import DMAEClustering
from skdeepclust.metrics import unsupervised_accuracy
from skdeepclust.plotting import plot_decision_regions

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

X, y = make_moons(n_samples=300 if SMOKE else 1000, noise=0.05, random_state=0)

# %%
# Both fits are shallow (``autoencoder=None``) and share everything but the head. The head's
# ``head_restarts`` restarts are matched to the most consistent one and averaged.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
for ax, head in zip(axes, ["mixture", "consistency"]):
    est = DMAEClustering(
        n_clusters=2,
        autoencoder=None,
        epochs=1,
        head=head,
        head_restarts=2 if SMOKE else 5,
        random_state=0,
    ).fit(X)
    plot_decision_regions(est, X, y, resolution=100 if SMOKE else 300, ax=ax)
    ax.set_title(f'head="{head}": ACC {unsupervised_accuracy(y, est.labels_):.3f}')
