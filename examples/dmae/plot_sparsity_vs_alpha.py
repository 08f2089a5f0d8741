"""
Sparsity of the soft assignments against alpha
==============================================

How many components share a sample? The DMAE paper (Fig. 4) answers with the L0 norm of the
soft assignment vector ``S_i``: ``n_clusters`` when every component gets some probability, 1
when the assignment is hard. The inverse temperature ``alpha`` moves it from one end to the
other. Here an entry counts as non-zero above ``1e-3``
(:func:`skdeepclust.plotting.assignment_sparsity`).
"""

# %%
import os

import numpy as np

from skdeepclust import DMAEClustering
from skdeepclust.datasets import make_pinwheel
from skdeepclust.plotting import assignment_sparsity, plot_sparsity_vs_alpha

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

X, _ = make_pinwheel(n_samples=300 if SMOKE else 1000, random_state=0)
alphas = np.logspace(-2, 2, 3 if SMOKE else 9)


def shallow_dmae(alpha):
    """A shallow Mahalanobis DMAE, as on the pinwheel of the paper."""
    return DMAEClustering(
        n_clusters=5,
        autoencoder=None,
        dissimilarity="mahalanobis",
        alpha=alpha,
        epochs=2 if SMOKE else 20,
        random_state=0,
    )


# %%
# One model per alpha; the band is the standard deviation over samples. Up to ``alpha = 0.1``
# every component keeps a share of almost every sample; from ``alpha`` of about 3 on, nearly
# every sample belongs to a single component.
fig = plot_sparsity_vs_alpha(alphas, X, shallow_dmae)

# %%
# The same function draws precomputed values, e.g. to reuse fitted models: here the
# distribution of the L0 norm for the smallest and largest alpha.
for alpha in alphas[[0, -1]]:
    l0 = assignment_sparsity(shallow_dmae(alpha).fit(X).predict_proba(X))
    print(f"alpha={alpha:g}: samples per L0 norm {np.bincount(l0, minlength=6)[1:]}")
