"""
Soft assignments and the inverse temperature alpha
==================================================

A DMAE assigns each sample softly: ``S = softmax(-alpha * D + log pi)`` with ``D[i, k]`` the
dissimilarity of sample ``i`` to component ``k``. ``alpha`` sets how fast the assignments turn
hard away from the boundaries between components. On the pinwheel data of the DMAE paper, with
the Mahalanobis dissimilarity (each component has its own learned precision matrix), this
draws the paper's Fig. 3a and 3c: the regions of each component and the posterior over the
plane.
"""

# %%
import os

import matplotlib.pyplot as plt

from skdeepclust import DMAEClustering
from skdeepclust.datasets import make_pinwheel
from skdeepclust.plotting import plot_decision_regions, plot_soft_assignments

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs
resolution = 80 if SMOKE else 250

X, y = make_pinwheel(n_samples=300 if SMOKE else 1000, random_state=0)


def fit(alpha):
    """A shallow Mahalanobis DMAE on the raw 2-D points."""
    return DMAEClustering(
        n_clusters=5,
        autoencoder=None,
        dissimilarity="mahalanobis",
        alpha=alpha,
        epochs=2 if SMOKE else 30,
        random_state=0,
    ).fit(X)


# %%
# Regions and posteriors
# ----------------------
# With ``alpha=0.5`` the Mahalanobis DMM is a Gaussian mixture whose precisions are the learned
# matrices: the components follow the arms of the pinwheel, and the assignments are uncertain
# (``max_k S_k`` well below 1) in a wide band between arms.
soft = fit(0.5)
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
plot_decision_regions(soft, X, y, resolution=resolution, ax=axes[0])
plot_soft_assignments(soft, X, resolution=resolution, ax=axes[1])
plot_soft_assignments(soft, X, component=0, resolution=resolution, ax=axes[2])
axes[2].set_title("posterior of component 0")

# %%
# Larger alpha, harder assignments
# --------------------------------
# Multiplying ``alpha`` by 20 narrows the uncertain bands to thin lines along the boundaries:
# the partition barely changes, the confidence does (compare the L0 norm of the assignments in
# :ref:`sphx_glr_auto_examples_dmae_plot_sparsity_vs_alpha.py`).
hard = fit(10.0)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
plot_soft_assignments(soft, X, resolution=resolution, ax=axes[0])
axes[0].set_title(r"$\alpha = 0.5$")
plot_soft_assignments(hard, X, resolution=resolution, ax=axes[1])
axes[1].set_title(r"$\alpha = 10$")
