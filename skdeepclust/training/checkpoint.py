"""Checkpoints of the training phases, for resuming an interrupted ``fit``.

A checkpoint directory holds ``manifest.json`` (what was being fitted: the estimator's class,
its parameters, the shape and a sample of the data, and the seed the fit drew) and one
``<phase>.ckpt`` file per training phase, rewritten every ``every`` epochs and when the phase
ends. Each file is a :func:`torch.save` of plain containers, tensors and numbers, read back
with ``torch.load(..., weights_only=True)``; it holds what the next epoch depends on:

- the ``state_dict`` of every module and optimiser of the phase's skorch net;
- the history (as JSON text, since skorch records numpy scalars);
- torch's CPU random state (augmentation, negative sampling, mixing coefficients and the
  DataLoader's worker seed draw from it), the CUDA one when training on a GPU, and the state of
  the DataLoader's shuffling generator;
- the per-training attributes a net lists in ``_checkpoint_attributes`` (IDEC's target).

A resumed phase restores all of it in ``on_train_begin`` and trains the remaining epochs, so
it ends in the state an uninterrupted phase would have reached. Files are written to a
temporary name and renamed, so an interruption while writing leaves the previous checkpoint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch.callbacks import Callback, PassthroughScoring
from skorch.history import History

__all__ = ["CheckpointStore", "PhaseCheckpoint", "read_manifest"]

MANIFEST = "manifest.json"
SUFFIX = ".ckpt"


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read_manifest(directory: str | os.PathLike) -> dict:
    """The manifest of a checkpoint directory, with a clear error when there is none."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"resume_from={str(directory)!r} holds no checkpoint (no {MANIFEST}); pass the "
            "checkpoint_dir of the interrupted fit."
        )
    return json.loads(path.read_text())


def _plain(value: Any) -> Any:
    """JSON fallback for the numpy scalars skorch records in the history."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store a {type(value).__name__} in a checkpoint history")


class CheckpointStore:
    """The checkpoint directory of one ``fit``.

    Parameters
    ----------
    directory : str or path-like
    every : int
        Epochs between two checkpoints of a phase (the last epoch is always saved).
    write : bool, default=True
        False reads the checkpoints but never writes (a resumed fit without ``checkpoint_dir``).
    """

    def __init__(self, directory: str | os.PathLike, every: int, *, write: bool = True):
        self.directory = Path(directory)
        self.every = every
        self.write = write

    # ---- the directory -----------------------------------------------------------------------
    @classmethod
    def start(cls, directory: str | os.PathLike, every: int, manifest: dict) -> CheckpointStore:
        """A fresh store: earlier checkpoints in ``directory`` are deleted."""
        store = cls(directory, every)
        store.directory.mkdir(parents=True, exist_ok=True)
        for path in store.directory.glob(f"*{SUFFIX}"):
            path.unlink()
        store._write_manifest(manifest)
        return store

    @classmethod
    def resume(
        cls, source: str | os.PathLike, directory: str | os.PathLike | None, every: int
    ) -> CheckpointStore:
        """A store continuing the fit recorded in ``source``.

        With another ``directory``, the checkpoints of ``source`` are copied there first and
        the resumed fit writes there; with ``directory=None`` nothing is written.
        """
        source = Path(source)
        if directory is None:
            return cls(source, every, write=False)
        store = cls(directory, every)
        if store.directory.resolve() != source.resolve():
            store.directory.mkdir(parents=True, exist_ok=True)
            for path in store.directory.glob(f"*{SUFFIX}"):
                path.unlink()
            for path in [source / MANIFEST, *source.glob(f"*{SUFFIX}")]:
                shutil.copyfile(path, store.directory / path.name)
        return store

    def _write_manifest(self, manifest: dict) -> None:
        text = json.dumps(manifest, indent=1, sort_keys=True).encode()
        _atomic_write(self.directory / MANIFEST, lambda f: f.write(text))

    def path(self, phase: str) -> Path:
        return self.directory / (re.sub(r"[^A-Za-z0-9_-]+", "_", phase) + SUFFIX)

    def read(self, phase: str) -> dict | None:
        """The last checkpoint of ``phase`` (on the CPU), or None."""
        path = self.path(phase)
        if not path.is_file():
            return None
        return torch.load(path, map_location="cpu", weights_only=True)

    def save(self, net, *, finished: bool) -> None:
        if self.write:
            state = capture(net, finished=finished)
            _atomic_write(self.path(net.phase), lambda f: torch.save(state, f))

    # ---- training ----------------------------------------------------------------------------
    def train(self, net, X) -> None:
        """``net.partial_fit(X)``, resumed from and saving checkpoints of ``net.phase``.

        A finished phase is restored without training; an interrupted one restores its last
        checkpoint and trains the remaining ``max_epochs - epoch`` epochs.
        """
        state = self.read(net.phase)
        if state is not None and state["finished"]:
            restore(net, state)
            return
        callback = PhaseCheckpoint(self, state)
        net.callbacks_.append(("checkpoint", callback))
        try:
            done = 0 if state is None else state["epoch"]
            net.partial_fit(X, epochs=max(net.max_epochs - done, 0))
        finally:
            # Keep the fitted net free of the checkpointing (it is pickled with the estimator).
            net.callbacks_.remove(("checkpoint", callback))


class PhaseCheckpoint(Callback):
    """Restore a phase's checkpoint when training begins; save one every few epochs.

    Added by :meth:`CheckpointStore.train` for one ``partial_fit``; it runs after the net's own
    ``on_train_begin``, which resets per-training state that the checkpoint then overwrites.

    Parameters
    ----------
    store : CheckpointStore
    state : dict or None
        The checkpoint to resume from.
    """

    def __init__(self, store: CheckpointStore, state: dict | None):
        self.store = store
        self.state = state

    def on_train_begin(self, net, **kwargs):
        if self.state is not None:
            restore(net, self.state)
            self.state = None

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) % self.store.every == 0:
            self.store.save(net, finished=False)

    def on_train_end(self, net, **kwargs):
        # After a user's interruption the last epoch's checkpoint stays the resume point.
        if not getattr(net, "interrupted_", False):
            self.store.save(net, finished=True)


def _components(net, kind: str) -> dict:
    return {name: getattr(net, name + "_") for name in getattr(net, kind)}


def capture(net, *, finished: bool) -> dict:
    """Everything the next epoch of ``net`` depends on, as a ``weights_only``-loadable dict."""
    rng = {"torch": torch.get_rng_state()}
    device = torch.device(net.device)
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(device)
    generator = getattr(net, "iterator_train__generator", None)
    if generator is not None:
        rng["loader"] = generator.get_state()
    return {
        "phase": net.phase,
        "epoch": len(net.history),
        "finished": finished,
        "modules": {n: m.state_dict() for n, m in _components(net, "_modules").items()},
        "optimizers": {n: o.state_dict() for n, o in _components(net, "_optimizers").items()},
        "history": json.dumps(net.history.to_list(), default=_plain),
        "rng": rng,
        "attributes": {n: getattr(net, n) for n in getattr(net, "_checkpoint_attributes", ())},
    }


def restore(net, state: dict) -> None:
    """Put ``net`` (initialised) in the state :func:`capture` recorded."""
    modules, optimizers = _components(net, "_modules"), _components(net, "_optimizers")
    for name, state_dict in state["modules"].items():
        modules[name].load_state_dict(state_dict)
    for name, state_dict in state["optimizers"].items():
        optimizers[name].load_state_dict(state_dict)
    net.history = History(json.loads(state["history"]))
    # skorch's train-loss callback marks each epoch that improves on its best score; unlike
    # EpochScoring it does not recover that best from the history.
    for _, callback in net.callbacks_:
        if isinstance(callback, PassthroughScoring):
            scores = [row[callback.name] for row in net.history if callback.name in row]
            if scores:
                callback.best_score_ = min(scores) if callback.lower_is_better else max(scores)
    for name, value in state["attributes"].items():
        setattr(net, name, value.to(net.device) if isinstance(value, torch.Tensor) else value)
    rng = state["rng"]
    torch.set_rng_state(rng["torch"])
    device = torch.device(net.device)
    if "cuda" in rng and device.type == "cuda":
        torch.cuda.set_rng_state(rng["cuda"], device)
    if "loader" in rng:
        net.iterator_train__generator.set_state(rng["loader"])
