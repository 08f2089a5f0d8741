"""Checkpoints and resuming an interrupted fit (skdeepclust.training.checkpoint).

Every resume test compares with an uninterrupted fit of the same parameters: on CPU the
resumed fit must end bit-identical (labels, centres, every weight, the loss histories).
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from skorch.callbacks import Callback

from skdeepclust import DMAEClustering, MCDCClustering
from skdeepclust.training.checkpoint import MANIFEST
from skdeepclust.training.nets import UnsupervisedNet

# Digits are 8x8 images: augmentation is on, so its random stream is checked too.
DMAE = dict(
    n_clusters=4,
    head="mixture",
    hidden_dims=(16,),
    latent_dim=3,
    n_neighbors=5,
    pretrain_epochs=4,
    epochs=3,
    n_init=2,
    random_state=0,
)
MCDC = dict(
    n_clusters=4,
    head="kmeans",
    hidden_dims=(16,),
    latent_dim=3,
    n_neighbors=5,
    epochs=4,
    finetune_epochs=3,
    batch_size=32,
    kmeans_n_init=2,
    clustering_loss="idec",
    random_state=0,
)
# Without the graph, 5 batches per epoch and IDEC's target updated every 2: resumed after
# epoch 1, training starts between two updates, so the target must come from the checkpoint.
MCDC_AE = dict(MCDC, pretrain="autoencoder", batch_size=24)
SETTINGS = {"dmae": (DMAEClustering, DMAE), "mcdc": (MCDCClustering, MCDC)}
SETTINGS["mcdc-ae"] = (MCDCClustering, MCDC_AE)
# Each consistency head trains for 500 one-batch epochs on this small graph.
HEAD = dict(head="consistency", head_restarts=2)
SETTINGS["dmae-head"] = (DMAEClustering, dict(DMAE, **HEAD))
# 120 samples are one batch: distillation runs 300 one-batch epochs.
SETTINGS["dmae-distilled"] = (DMAEClustering, dict(DMAE, **dict(HEAD, head="distilled")))
SETTINGS["mcdc-head"] = (MCDCClustering, dict(MCDC, clustering_loss=None, **HEAD))


class Interrupted(Exception):
    """Stands for a crash: skorch does not catch it, unlike KeyboardInterrupt."""


class InterruptAt(Callback):
    """Raise ``error`` at the end of epoch ``epoch`` of ``phase``."""

    def __init__(self, phase, epoch, error=Interrupted):
        self.phase, self.epoch, self.error = phase, epoch, error

    def on_epoch_end(self, net, **kwargs):
        if net.phase == self.phase and len(net.history) == self.epoch:
            raise self.error


class CountEpochs(Callback):
    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


@pytest.fixture(scope="module")
def X():
    X, _ = load_digits(return_X_y=True)
    return (X[:120] / 16).astype(np.float32)


@pytest.fixture(scope="module")
def reference(X):
    """Uninterrupted fits, keyed like SETTINGS."""
    return {key: cls(**params).fit(X) for key, (cls, params) in SETTINGS.items()}


def _histories(est):
    nets = [est.pretrain_history_, est.net_.history, getattr(est, "distillation_history_", None)]
    return [[{k: v for k, v in row.items() if k != "dur"} for row in h] for h in nets if h]


def assert_same_fit(a, b):
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    for attr in ("module_", "head_"):
        if getattr(a, attr, None) is None:  # DMAE keeps its head in module_, MCDC in head_
            assert getattr(b, attr, None) is None
            continue
        state_a, state_b = getattr(a, attr).state_dict(), getattr(b, attr).state_dict()
        assert state_a.keys() == state_b.keys()
        for name in state_a:
            torch.testing.assert_close(state_a[name], state_b[name], rtol=0, atol=0, msg=name)
    assert _histories(a) == _histories(b)
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_array_equal(a.head_objectives_, b.head_objectives_)


CASES = [
    ("dmae", "pretraining", 2, 1),
    ("dmae", "fine-tuning", 2, 1),
    ("dmae", "pretraining", 4, 3),  # resumes from epoch 3, redoes epoch 4
    ("mcdc", "mixing training", 3, 2),
    ("mcdc", "IDEC fine-tuning", 2, 1),
    ("mcdc-ae", "IDEC fine-tuning", 2, 1),
    ("dmae-head", "consistency head 2", 250, 100),
    ("mcdc-head", "consistency head 1", 250, 100),
    ("dmae-distilled", "distillation", 150, 100),
]


@pytest.mark.parametrize(
    ("key", "phase", "epoch", "every"),
    CASES,
    ids=[f"{k}-{p}-{e}-every{n}" for k, p, e, n in CASES],
)
def test_resumed_fit_equals_uninterrupted(X, reference, tmp_path, key, phase, epoch, every):
    cls, params = SETTINGS[key]
    settings = dict(params, checkpoint_dir=tmp_path, checkpoint_every=every)
    est = cls(**settings, callbacks=[InterruptAt(phase, epoch)])
    with pytest.raises(Interrupted):
        est.fit(X)
    assert not hasattr(est, "labels_")  # an interrupted fit leaves no fitted state
    assert (tmp_path / MANIFEST).is_file()

    resumed = cls(**settings).fit(X, resume_from=tmp_path)
    assert_same_fit(resumed, reference[key])


def test_checkpoints_do_not_change_the_fit(X, reference, tmp_path):
    est = DMAEClustering(**DMAE, checkpoint_dir=tmp_path).fit(X)
    assert_same_fit(est, reference["dmae"])
    # Checkpoints are plain tensors and containers: loadable without unpickling code.
    for path in tmp_path.glob("*.ckpt"):
        state = torch.load(path, weights_only=True)
        assert state["finished"]
    # The fitted net carries no checkpointing; the estimator pickles.
    assert "checkpoint" not in dict(est.net_.callbacks_)
    assert_same_fit(pickle.loads(pickle.dumps(est)), est)


def test_resuming_a_finished_fit_trains_nothing(X, reference, tmp_path):
    DMAEClustering(**DMAE, checkpoint_dir=tmp_path).fit(X)
    counter = CountEpochs()
    est = DMAEClustering(**DMAE, callbacks=[counter]).fit(X, resume_from=tmp_path)
    assert counter.epochs == 0
    assert_same_fit(est, reference["dmae"])


def test_resume_reuses_the_seed_of_the_interrupted_fit(X, tmp_path):
    settings = dict(DMAE, random_state=None, checkpoint_dir=tmp_path)
    with pytest.raises(Interrupted):
        DMAEClustering(**settings, callbacks=[InterruptAt("fine-tuning", 1)]).fit(X)
    a = DMAEClustering(**settings).fit(X, resume_from=tmp_path)
    # The finished fit's checkpoints replay it exactly, in another directory too.
    b = DMAEClustering(**dict(settings, checkpoint_dir=tmp_path / "copy")).fit(
        X, resume_from=tmp_path
    )
    assert_same_fit(a, b)
    assert (tmp_path / "copy" / MANIFEST).is_file()


def test_ctrl_c_fails_the_fit_and_can_be_resumed(X, reference, tmp_path, monkeypatch):
    # skorch's partial_fit swallows KeyboardInterrupt; a Ctrl-C (raised in a training step,
    # not by a callback) must still end fit with KeyboardInterrupt, not continue to the next
    # phase as if the interrupted one had finished.
    step = UnsupervisedNet.train_step_single
    calls = []

    def interrupted_step(net, batch, **fit_params):
        calls.append(net.phase)
        if net.phase == "pretraining" and calls.count("pretraining") == 5:
            raise KeyboardInterrupt
        return step(net, batch, **fit_params)

    monkeypatch.setattr(UnsupervisedNet, "train_step_single", interrupted_step)
    est = DMAEClustering(**DMAE, checkpoint_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt, match="pretraining was interrupted"):
        est.fit(X)
    assert "fine-tuning" not in calls
    assert not hasattr(est, "labels_")
    monkeypatch.setattr(UnsupervisedNet, "train_step_single", step)
    assert_same_fit(est.fit(X, resume_from=tmp_path), reference["dmae"])


def test_callback_keyboard_interrupt_still_stops_a_phase(X):
    # skorch's convention (EarlyStopping): a callback raising KeyboardInterrupt ends the phase.
    est = DMAEClustering(**DMAE, callbacks=[InterruptAt("pretraining", 2, KeyboardInterrupt)])
    est.fit(X)
    assert len(est.pretrain_history_) == 2
    assert len(est.net_.history) == DMAE["epochs"]


def test_resume_checks_parameters_and_data(X, tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no checkpoint"):
        DMAEClustering(**DMAE).fit(X, resume_from=tmp_path)
    with pytest.raises(Interrupted):
        DMAEClustering(
            **DMAE, checkpoint_dir=tmp_path, callbacks=[InterruptAt("pretraining", 1)]
        ).fit(X)
    with pytest.raises(ValueError, match=r"parameters differ.*latent_dim"):
        DMAEClustering(**dict(DMAE, latent_dim=4)).fit(X, resume_from=tmp_path)
    with pytest.raises(ValueError, match="not the data"):
        DMAEClustering(**DMAE).fit(X[:-1], resume_from=tmp_path)
    with pytest.raises(ValueError, match="not the data"):
        DMAEClustering(**DMAE).fit(X[::-1], resume_from=tmp_path)
    with pytest.raises(ValueError, match="holds a checkpoint of DMAEClustering"):
        MCDCClustering(**MCDC).fit(X, resume_from=tmp_path)
    # Settings that do not change the training may differ.
    DMAEClustering(**dict(DMAE, random_state=1, verbose=0, checkpoint_every=2)).fit(
        X, resume_from=tmp_path
    )


def test_fresh_fit_deletes_stale_checkpoints(X, tmp_path):
    with pytest.raises(Interrupted):
        DMAEClustering(
            **DMAE, checkpoint_dir=tmp_path, callbacks=[InterruptAt("fine-tuning", 2)]
        ).fit(X)
    assert (tmp_path / "fine-tuning.ckpt").is_file()
    with pytest.raises(Interrupted):
        DMAEClustering(
            **DMAE, checkpoint_dir=tmp_path, callbacks=[InterruptAt("pretraining", 1)]
        ).fit(X)
    assert not (tmp_path / "fine-tuning.ckpt").exists()


@pytest.mark.parametrize("every", [0, 1.5])
def test_checkpoint_every_is_validated(X, every):
    with pytest.raises(ValueError, match="checkpoint_every"):
        DMAEClustering(checkpoint_every=every).fit(X)


# The automatic budget on these 120 digits with 30 graph steps at least: 40 pretraining epochs
# (DMAE), 60 epochs of mixing training (MCDC).
SNAPSHOT_CASES = {
    "dmae": (
        DMAEClustering,
        dict(DMAE, head="distilled", pretrain_epochs="auto"),
        "pretraining",
        40,
    ),
    "mcdc": (
        MCDCClustering,
        dict(MCDC, head="consistency", clustering_loss=None, epochs="auto"),
        "mixing training",
        60,
    ),
}


def _pair(codes):
    return codes if isinstance(codes, tuple) else (codes, None)


@pytest.mark.parametrize("key", list(SNAPSHOT_CASES))
def test_resume_after_a_snapshot_keeps_the_snapshot(X, tmp_path, monkeypatch, key):
    # The automatic budget is shorter than the heads' minimum (2 epochs more): the state of its
    # last epoch is a snapshot, which a fit resumed after that epoch must read from the
    # checkpoint.
    cls, params, phase, auto = SNAPSHOT_CASES[key]
    monkeypatch.setattr("skdeepclust.training.data.MIN_GRAPH_STEPS", 30)
    monkeypatch.setattr("skdeepclust._base._HEADS_MIN_EPOCHS", auto + 2)
    candidates = []
    choose = cls._most_consistent_heads

    def recording(est, codes, graph, *, seed):
        # Both pass functions that load each epoch's weights: what they return is recorded
        # (DMAE's is a pair of codes and copies' codes).
        codes = {e: c() if callable(c) else c for e, c in codes.items()}
        candidates.append(codes)
        return choose(est, codes, graph, seed=seed)

    monkeypatch.setattr(cls, "_most_consistent_heads", recording)
    settings = dict(params, head_restarts=1, checkpoint_dir=tmp_path)
    reference = cls(**settings).fit(X)
    est = cls(**settings, callbacks=[InterruptAt(phase, auto + 1)])
    with pytest.raises(Interrupted):
        est.fit(X)
    resumed = cls(**settings).fit(X, resume_from=tmp_path)
    assert_same_fit(resumed, reference)
    assert resumed.head_pretrain_epoch_ == reference.head_pretrain_epoch_
    first, last = candidates[0], candidates[-1]
    assert sorted(first) == sorted(last) == [auto, auto + 2]
    for epoch in (auto, auto + 2):
        for resumed_codes, reference_codes in zip(*map(_pair, (last[epoch], first[epoch]))):
            np.testing.assert_array_equal(resumed_codes, reference_codes)
