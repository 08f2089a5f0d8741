"""
Choosing the autoencoder
========================

``DMAEClustering`` builds its autoencoder from three parameters:

- ``autoencoder``: ``"mlp"`` (fully connected), ``"conv"`` (the convolutional autoencoder of
  ACAI, for images) or ``None`` (no autoencoder: the mixture is fitted on the raw features);
- ``hidden_dims``: the widths of the hidden layers of the MLP encoder, mirrored by the decoder;
- ``latent_dim``: the size of the latent space the mixture lives in.

Being plain constructor parameters, they are cloned, grid-searched and pickled like any
other. (Instances of ``torch.nn.Module`` cannot be passed as the autoencoder.) The trained
networks are ordinary torch modules afterwards: ``encoder_`` and ``module_.autoencoder``.
"""

# %%
import os
import time

import torch
from sklearn.datasets import load_digits

from skdeepclust import DMAEClustering
from skdeepclust.metrics import cluster_report
from skdeepclust.plotting import plot_latent_space

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

X, y = load_digits(return_X_y=True)
X = X / 16.0
if SMOKE:
    X, y = X[:200], y[:200]

# %%
# Three architectures
# -------------------
# A shallow model on the 64 pixels, a narrow MLP (64-64-5) and the default width with a 2-D
# latent space, which can be looked at directly.
architectures = {
    "no autoencoder": dict(autoencoder=None),
    "MLP 64-64-5": dict(hidden_dims=(64,), latent_dim=5),
    "MLP 64-256-256-2": dict(hidden_dims=(256, 256), latent_dim=2),
}
fitted = {}
for name, params in architectures.items():
    start = time.perf_counter()
    fitted[name] = DMAEClustering(
        n_clusters=10,
        pretrain_epochs=2 if SMOKE else 15,
        epochs=1 if SMOKE else 5,
        random_state=0,
        **params,
    ).fit(X)
    report = cluster_report(y, fitted[name].labels_)
    print(
        f"{name:18s} ACC {report['accuracy']:.3f}  NMI {report['nmi']:.3f}  "
        f"{time.perf_counter() - start:.1f} s"
    )

# %%
# The 2-D latent space of the last model, without projection (its principal axes).
fig = plot_latent_space(fitted["MLP 64-256-256-2"], X, y)

# %%
# The trained networks
# --------------------
# ``encoder_`` maps float32 rows to codes; ``module_.autoencoder.decoder`` maps codes back. Use
# them as any torch module, e.g. to decode a point of the latent space.
est = fitted["MLP 64-256-256-2"]
print(est.module_.autoencoder)
with torch.no_grad():
    code = est.encoder_(torch.as_tensor(X[:1], dtype=torch.float32))
    image = est.module_.autoencoder.decoder(code)
print("code", code.numpy().round(2), "-> decoded", tuple(image.shape))
