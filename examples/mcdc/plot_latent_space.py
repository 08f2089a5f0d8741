"""
Latent spaces of an autoencoder, ACAI and MCDC
==============================================

MCDC trains an autoencoder so that decoded mixes of two codes look like the dominant one; the
MCDC paper (Fig. 5) shows that its classes come out rounder and better separated in the latent
space than with a plain autoencoder or with ACAI (the adversarial interpolation game without
the mixing consistency loss). The three are one estimator with different weights:

=============  ===================  ==============
model          ``mixing_weight``    ``lambda_adv``
=============  ===================  ==============
autoencoder    0                    0
ACAI           0                    0.5
MCDC           1                    0.5
=============  ===================  ==============

All three use ``pretrain="autoencoder"`` (the papers' training, without the neighbour-graph
term of the default profile), so the differences come from the mixing losses alone.
"""

# %%
import os

from sklearn.datasets import load_digits

from skdeepclust import MCDCClustering
from skdeepclust.metrics import cluster_report
from skdeepclust.plotting import plot_latent_space

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

X, y = load_digits(return_X_y=True)
X = X / 16.0
if SMOKE:
    X, y = X[:200], y[:200]

models = {
    "autoencoder": dict(mixing_weight=0.0, lambda_adv=0.0),
    "ACAI": dict(mixing_weight=0.0),
    "MCDC": dict(mixing_weight=1.0),
}

# %%
# Each figure shows the first two principal components of the codes, by cluster (KMeans on
# the whitened codes) and by digit. Two components show only part of a 10-dimensional space:
# the accuracies in the titles measure the separation in all of it.
for name, params in models.items():
    est = MCDCClustering(
        n_clusters=10,
        pretrain="autoencoder",
        head="kmeans",  # the paper's protocol, which the titles' accuracies measure
        epochs=1 if SMOKE else 30,
        random_state=0,
        **params,
    ).fit(X)
    report = cluster_report(y, est.labels_)
    fig = plot_latent_space(est, X, y)
    fig.suptitle(f"{name}: ACC {report['accuracy']:.3f}, NMI {report['nmi']:.3f}")
