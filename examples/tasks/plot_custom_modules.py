"""
Choosing the autoencoder
========================

``DMAEClustering`` builds its autoencoder from three parameters:

- ``autoencoder``: ``"mlp"`` (fully connected), ``"conv"`` (the convolutional autoencoder of
  ACAI, for images), ``None`` (no autoencoder: the mixture is fitted on the raw features) or
  your own encoder and decoder, a pair of torch modules;
- ``hidden_dims``: the widths of the hidden layers of the MLP encoder, mirrored by the decoder;
- ``latent_dim``: the size of the latent space the mixture lives in.

Being plain constructor parameters, they are cloned, grid-searched and pickled like any
other. The trained networks are ordinary torch modules afterwards: ``encoder_`` and
``module_.autoencoder``.
"""

# %%
import os
import time

import torch
from sklearn.datasets import load_digits
from torch import nn

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

# %%
# Your own encoder and decoder
# ----------------------------
# Any pair of torch modules can be the ``autoencoder`` (of ``MCDCClustering`` too) if the
# encoder maps float32 rows ``[B, 64]`` to codes ``[B, latent_dim]`` and the decoder maps the
# codes back to ``[B, 64]``; the size of the latent space is read from the encoder's output.
# Here: an MLP with LayerNorm, GELU and dropout, and a 5-D latent space.


def block(n_in, n_out):
    return [nn.Linear(n_in, n_out), nn.LayerNorm(n_out), nn.GELU(), nn.Dropout(0.1)]


torch.manual_seed(0)
encoder = nn.Sequential(*block(64, 256), *block(256, 128), nn.Linear(128, 5))
decoder = nn.Sequential(*block(5, 128), *block(128, 256), nn.Linear(256, 64))

start = time.perf_counter()
est = DMAEClustering(
    n_clusters=10,
    autoencoder=(encoder, decoder),
    pretrain_epochs=2 if SMOKE else 15,
    epochs=1 if SMOKE else 5,
    random_state=0,
).fit(X)
report = cluster_report(y, est.labels_)
print(
    f"{'custom MLP':18s} ACC {report['accuracy']:.3f}  NMI {report['nmi']:.3f}  "
    f"{time.perf_counter() - start:.1f} s"
)

# %%
# ``fit`` trains a deep copy: the modules passed in keep their initial weights, so refits,
# ``clone`` and every candidate of a grid search start from the same network. The trained copies
# are ``encoder_`` and ``module_.autoencoder.decoder``. :meth:`~DMAEClustering.save` cannot
# describe your module classes in its JSON file and refuses them: pickle or joblib such models.
print("trained encoder is the one passed in:", est.encoder_ is encoder)
print("codes", est.transform(X[:3]).round(2))
