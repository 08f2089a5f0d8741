"""
Interpolating in the latent space
=================================

The MCDC paper (Fig. 4) decodes straight lines between the codes of two images. Trained with
the mixing consistency loss, the decoder learns to reproduce the dominant end point of a mix,
so on MNIST the path stays on one digit for most of the way and switches abruptly, where an
ACAI model morphs gradually through blurry images. On these 8x8 digits, after a short
training, the difference is subtle: compare the middle columns of each pair of rows.
"""

# %%
import os

import numpy as np
from sklearn.datasets import load_digits

from skdeepclust import MCDCClustering
from skdeepclust.plotting import plot_interpolations

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

X, y = load_digits(return_X_y=True)
X = X / 16.0
if SMOKE:
    X, y = X[:200], y[:200]

# %%
# Two models, trained like the paper (no neighbour graph): ACAI (``mixing_weight=0``) and
# MCDC. Pairs of different digits are interpolated with :meth:`MCDCClustering.interpolate
# <skdeepclust.MCDCClustering.interpolate>`.
models = {
    name: MCDCClustering(
        n_clusters=10,
        pretrain="autoencoder",
        head="kmeans",  # the clusters are not used here: skip training the heads
        mixing_weight=weight,
        epochs=1 if SMOKE else 30,
        random_state=0,
    ).fit(X)
    for name, weight in [("ACAI", 0.0), ("MCDC", 1.0)]
}
starts = [np.flatnonzero(y == digit)[0] for digit in (0, 3, 4)]
ends = [np.flatnonzero(y == digit)[0] for digit in (6, 8, 7)]

# %%
# From an estimator: one row per pair, the end points' reconstructions at both ends.
fig = plot_interpolations(models["MCDC"], (X[starts], X[ends]), n_steps=9)

# %%
# From decoded images: stack the rows of both models to compare them pair by pair.
paths = {name: est.interpolate(X[starts], X[ends], n_steps=9) for name, est in models.items()}
rows = np.stack([paths[name][i] for i in range(len(starts)) for name in models])
labels = [f"{name} {y[a]}→{y[b]}" for a, b in zip(starts, ends) for name in models]
fig = plot_interpolations(rows, row_labels=labels)
