"""
Training history
================

Every training phase of the deep estimators is a skorch net whose ``history`` records each
loss term per epoch: ``pretrain_history_`` for the pretraining and ``net_.history`` for the
last phase. :func:`skdeepclust.plotting.plot_training_history` draws them, one panel per phase;
``train_loss`` is the weighted sum that was minimised.
"""

# %%
import os

from sklearn.datasets import load_digits

from skdeepclust import DMAEClustering, MCDCClustering
from skdeepclust.plotting import plot_training_history

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

X, _ = load_digits(return_X_y=True)
X = X / 16.0
if SMOKE:
    X = X[:200]

# %%
# DMAE, default profile: the pretraining fits the neighbour graph (``graph_loss``) and the
# reconstruction; the fine-tuning adds the mixture's ``clustering_loss`` and the
# ``scale_penalty`` that keeps the encoder from shrinking the codes to make that loss vanish.
dmae = DMAEClustering(
    n_clusters=10,
    pretrain_epochs=2 if SMOKE else 10,
    epochs=2 if SMOKE else 5,
    random_state=0,
).fit(X)
fig = plot_training_history(dmae)

# %%
# The raw history is a skorch :class:`~skorch.history.History`, sliceable by epoch and key.
for epoch, clustering, reconstruction in dmae.net_.history[
    :, ("epoch", "clustering_loss", "reconstruction_loss")
]:
    print(f"epoch {epoch}: clustering {clustering:.4f}, reconstruction {reconstruction:.4f}")

# %%
# MCDC + IDEC: the mixing training (reconstruction, mixing consistency, the adversarial game
# with its critic) then IDEC's fine-tuning with its clustering loss. IDEC stops early once
# fewer than 0.1 % of the labels change between target updates.
mcdc = MCDCClustering(
    n_clusters=10,
    clustering_loss="idec",
    epochs=2 if SMOKE else 10,
    finetune_epochs=2 if SMOKE else 5,
    random_state=0,
).fit(X)
fig = plot_training_history(mcdc)
