"""
Densities learned by a DMAE
===========================

With the squared euclidean or the Mahalanobis dissimilarity, ``exp(-alpha * V)`` is a Gaussian
kernel, so the dissimilarity mixture is a Gaussian mixture and ``score_samples`` returns its
log-density. This draws the density a shallow Mahalanobis DMAE learns on the pinwheel data
(the DMAE paper's Fig. 3b), then the one of a deep DMAE, which models the data through its
encoder (the paper's Fig. 5).
"""

# %%
import os

import matplotlib.pyplot as plt

from skdeepclust import DMAEClustering
from skdeepclust.datasets import make_pinwheel
from skdeepclust.plotting import plot_density

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs
resolution = 80 if SMOKE else 250

X, y = make_pinwheel(n_samples=300 if SMOKE else 1000, random_state=0)

# %%
# Shallow: a Gaussian mixture
# ---------------------------
# For the Mahalanobis dissimilarity ``V = (x - mu)^T P (x - mu)`` the density of a component is
# a Gaussian with precision ``2 * alpha * P``. Components are initialised with ``P`` the
# inverse covariance of their KMeans cluster, so ``alpha = 0.5`` starts from Gaussians as wide
# as the clusters. A Gaussian cannot bend, so each arm is covered by an ellipse.
shallow = DMAEClustering(
    n_clusters=5,
    autoencoder=None,
    dissimilarity="mahalanobis",
    alpha=0.5,
    epochs=2 if SMOKE else 30,
    random_state=0,
).fit(X)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
plot_density(shallow, X, resolution=resolution, ax=axes[0])
plot_density(shallow, X, log=True, resolution=resolution, ax=axes[1])
axes[0].set_title("density")
axes[1].set_title("log-density")

# %%
# Deep: a mixture in the latent space
# -----------------------------------
# A deep DMAE fits the mixture to the codes of an encoder (here a small MLP to a 2-D latent
# space, pretrained as a plain autoencoder), so ``score_samples`` is the latent density at the
# code of each input point. Through the encoder, the components bend along the arms, which the
# ellipses of the shallow mixture cannot. (This is the density of the codes, not a density
# normalised over the input plane.)
deep = DMAEClustering(
    n_clusters=5,
    dissimilarity="mahalanobis",
    alpha=0.5,
    hidden_dims=(32, 32),
    latent_dim=2,
    pretrain="autoencoder",
    pretrain_epochs=2 if SMOKE else 100,
    epochs=1 if SMOKE else 10,
    random_state=0,
).fit(X)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
plot_density(shallow, X, resolution=resolution, ax=axes[0])
plot_density(deep, X, resolution=resolution, ax=axes[1])
axes[0].set_title("shallow DMAE")
axes[1].set_title("deep DMAE")
