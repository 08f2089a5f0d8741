"""
Confusion matrix of a clustering
================================

Cluster numbers are arbitrary, so a clustering is compared with the classes after matching
each cluster to a class. :func:`skdeepclust.metrics.unsupervised_accuracy` finds the matching
that maximises the accuracy (the Hungarian algorithm); :func:`skdeepclust.plotting.plot_confusion`
orders the columns by it, so the diagonal holds the correctly clustered samples. Asking for
more clusters than classes leaves some clusters unmatched: they get their own columns.
"""

# %%
import os

from sklearn.datasets import load_digits

from skdeepclust import DMAEClustering
from skdeepclust.plotting import plot_confusion

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

X, y = load_digits(return_X_y=True)
X = X / 16.0
if SMOKE:
    X, y = X[:200], y[:200]

# %%
# A deep DMAE with the default settings:
budget = dict(pretrain_epochs=2, epochs=1) if SMOKE else {}
est = DMAEClustering(n_clusters=10, random_state=0, **budget).fit(X)
fig = plot_confusion(y, est.labels_)

# %%
# Twelve clusters for ten digits, here with a shallow DMAE (the mixture fitted on the 64 raw
# pixels, no autoencoder): two clusters stay unmatched and their samples count as errors.
# Normalised rows show, for each digit, the fraction of its samples in each column.
est12 = DMAEClustering(
    n_clusters=12, autoencoder=None, epochs=1 if SMOKE else 20, random_state=0
).fit(X)
fig = plot_confusion(y, est12.labels_, normalize=True)
