"""
Fashion-MNIST end to end
========================

Clustering 28x28 images of ten kinds of clothing without their labels: load the data with
:func:`skdeepclust.datasets.load_fashion_mnist`, fit a deep DMAE, compare with KMeans on the
pixels, and look at the latent space, the confusions and the cluster prototypes.

The full dataset has 70,000 images; fitting all of them takes tens of minutes on a laptop CPU
(or use ``device="cuda"``). This example draws a random subset so that it runs in about a
minute.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans

from skdeepclust import DMAEClustering
from skdeepclust.datasets import load_fashion_mnist
from skdeepclust.metrics import cluster_report
from skdeepclust.plotting import plot_confusion, plot_latent_space

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

# %%
# Data
# ----
# The first call downloads the four original files (30 MB) to ``~/skdeepclust_data`` (or the
# ``SKDEEPCLUST_DATA`` folder) and checks their SHA-256; later calls read the cache. Pixels
# are scaled to [0, 1].
fashion = load_fashion_mnist()
subset = np.random.RandomState(0).permutation(len(fashion.data))[: 200 if SMOKE else 1500]
X, y = fashion.data[subset], fashion.target[subset]
print(X.shape, X.dtype, "classes:", ", ".join(fashion.target_names))

# %%
# Fit
# ---
# The 784 features form 28x28 non-negative images, so the encoder is pretrained on the
# neighbour graph (its neighbours found among gradient histograms next to the pixels,
# ``graph_features="auto"``) with small random rotations and shifts of the images. The epoch
# budgets are set explicitly to keep the example short; ``"auto"`` (the default) trains longer.
est = DMAEClustering(
    n_clusters=10,
    pretrain_epochs=1 if SMOKE else 8,
    epochs=1 if SMOKE else 2,
    head_restarts=1 if SMOKE else 5,
    random_state=0,
).fit(X)
kmeans = KMeans(10, n_init=10, random_state=0).fit(X)
for name, labels in [("DMAE", est.labels_), ("KMeans on pixels", kmeans.labels_)]:
    report = cluster_report(y, labels)
    print(f"{name:18s} ACC {report['accuracy']:.3f}  NMI {report['nmi']:.3f}")

# %%
# Latent space and confusions
# ---------------------------
# Footwear (sandal, sneaker, ankle boot), trousers and bags separate well; the upper-body
# garments (T-shirt, pullover, coat, shirt) overlap, as they do for every method on this data.
fig = plot_latent_space(est, X, fashion.target_names[y])
fig = plot_confusion(y, est.labels_, class_names=list(fashion.target_names))

# %%
# Prototypes
# ----------
# Each cluster centre decoded to an image, titled with the majority class of its cluster.
prototypes = est.prototypes().reshape(-1, 28, 28)
fig, axes = plt.subplots(1, 10, figsize=(12, 1.8), layout="constrained")
for k, (ax, image) in enumerate(zip(axes, prototypes)):
    members = y[est.labels_ == k]
    majority = fashion.target_names[np.bincount(members).argmax()] if len(members) else "empty"
    ax.imshow(image, cmap="gray_r")
    ax.set_title(f"{k}: {majority}", fontsize="x-small")
    ax.axis("off")
