"""
Quickstart: cluster handwritten digits with DMAEClustering
==========================================================

:class:`~skdeepclust.DMAEClustering` is a scikit-learn clusterer: ``fit`` learns an encoder and
a mixture of components in its latent space, ``predict`` assigns new samples, ``predict_proba``
gives the soft assignments and ``transform`` the latent codes. This example clusters the 1,797
8x8 digit images bundled with scikit-learn, scores the result against the true digits and looks
at what the model learned.
"""

# %%
# Data
# ----
# The pixels are scaled to [0, 1]: 8x8 non-negative images are recognised as images, which
# enables small random rotations and shifts during pretraining.
import os

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from skdeepclust import DMAEClustering
from skdeepclust.metrics import cluster_report
from skdeepclust.plotting import plot_confusion, plot_latent_space

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

X, y = load_digits(return_X_y=True)
X = X / 16.0
if SMOKE:
    X, y = X[:200], y[:200]

# %%
# Fit
# ---
# The defaults pretrain the encoder to preserve the nearest-neighbour graph of the inputs,
# initialise the mixture with KMeans on the codes, then fine-tune both. ``random_state`` makes
# the fit repeatable on CPU.
budget = dict(pretrain_epochs=2, epochs=1) if SMOKE else {}
est = DMAEClustering(n_clusters=10, random_state=0, **budget).fit(X)
report = cluster_report(y, est.labels_)
print(f"ACC {report['accuracy']:.3f}  NMI {report['nmi']:.3f}  ARI {report['ari']:.3f}")

# %%
# The fitted model
# ----------------
# Soft assignments are a softmax over the components; ``alpha`` (1000 by default) makes them
# almost hard. The mixing weights are the learned cluster proportions.
print("soft assignments of 3 samples:\n", est.predict_proba(X[:3]).round(3))
print("mixing weights:", est.mixing_weights_.round(3))
print("latent codes:", est.transform(X).shape, " centres:", est.cluster_centers_.shape)

# %%
# The latent space, projected on its first two principal components: left by cluster, right
# by true digit (each digit in the colour of the cluster matched to it).
plot_latent_space(est, X, y)

# %%
# Which digits end up together: the confusion matrix after matching clusters to digits with
# the Hungarian algorithm (the matching that defines the unsupervised accuracy).
plot_confusion(y, est.labels_)

# %%
# Prototypes
# ----------
# The decoder maps each cluster centre back to the input space: one prototype image per
# cluster.
prototypes = est.prototypes().reshape(-1, 8, 8)
fig, axes = plt.subplots(1, len(prototypes), figsize=(10, 1.4), layout="constrained")
for k, (ax, image) in enumerate(zip(axes, prototypes)):
    ax.imshow(image, cmap="gray_r")
    ax.set_title(f"cluster {k}", fontsize="small")
    ax.axis("off")
