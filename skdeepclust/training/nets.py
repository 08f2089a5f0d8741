"""skorch nets of the training phases.

Each phase is a small :class:`skorch.NeuralNet` subclass whose ``losses`` method returns the
named loss terms of one batch; the shared base records every term in the history, stops on a
non-finite loss with the phase and epoch in the message, and moves batches to the device.
Phases share module instances, so the weights flow from one phase to the next.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.utils import to_tensor

from .losses import neighbor_consistency_loss, neighbor_embedding_loss, scale_penalty

__all__ = [
    "ConsistencyNet",
    "DMMNet",
    "DistillationNet",
    "RepresentationNet",
    "UnsupervisedNet",
]


class UnsupervisedNet(NeuralNet):
    """Base net for training without targets.

    Subclasses implement ``losses(X, index) -> dict`` whose ``"loss"`` entry is minimised; every
    entry is recorded per batch and averaged per epoch in ``history``.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    phase : str
        Name of the phase, used in the history and in error messages.
    augment : callable, optional
        ``augment(X) -> X`` applied to the training inputs of each batch.
    precision : {"float32", "bfloat16"}, default="float32"
        Arithmetic of the networks' forward and backward passes (:meth:`_forward`);
        ``"bfloat16"`` runs them under :func:`torch.autocast` while the parameters, the
        optimiser and every loss stay in float32.
    snapshot_epochs : tuple of int, default=()
        Epochs (counted from 1) after which :meth:`snapshot` is kept in ``snapshots_`` (a dict
        from epoch to what it returned), so that a caller can use the state of an earlier epoch
        without a second training. The snapshots are part of the phase's checkpoints.
    """

    # The training state a resumed phase needs (see skdeepclust.training.checkpoint).
    _checkpoint_attributes = ("snapshots_",)

    def __init__(
        self,
        *args,
        phase="training",
        augment=None,
        precision="float32",
        snapshot_epochs=(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.phase = phase
        self.augment = augment
        self.precision = precision
        self.snapshot_epochs = snapshot_epochs

    def losses(self, X, index) -> dict:
        raise NotImplementedError

    def snapshot(self):
        """What ``snapshot_epochs`` keep of the current epoch (subclasses define it)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no snapshots.")

    def _augmented(self, X):
        return X if self.augment is None else self.augment(X)

    def _forward(self, module, *args):
        """``module(*args)`` in the net's precision, returned as float32.

        Only the networks run in bfloat16: distances, soft assignments and losses need float32
        (with ``alpha=1000`` a bfloat16 distance error of 1% flips assignments).
        """
        if self.precision == "float32":
            return module(*args)
        with torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16):
            out = module(*args)
        if isinstance(out, tuple):
            return tuple(o.float() for o in out)
        return out.float()

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        X, index = batch
        X = to_tensor(X, device=self.device)
        index = to_tensor(index, device=self.device)
        terms = self.losses(X, index)
        loss = terms["loss"]
        value = loss.item()
        if not np.isfinite(value):
            epoch = len(self.history)
            raise FloatingPointError(
                f"The {self.phase} loss became {value} at epoch {epoch}. Lower the learning "
                "rate, scale the input data, or check it for extreme values."
            )
        loss.backward()
        for name, term in terms.items():
            if name != "loss":
                self.history.record_batch(name, term.item())
        return {"loss": loss, "y_pred": None}

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.snapshots_ = {}

    def on_epoch_end(self, net, **kwargs):
        batches = self.history[-1, "batches"]
        if batches:
            for name in batches[0]:
                if name not in ("train_loss", "train_batch_size"):
                    self.history.record(name, float(np.mean([b[name] for b in batches])))
        if len(self.history) in self.snapshot_epochs:
            self.snapshots_[len(self.history)] = self.snapshot()
        super().on_epoch_end(net, **kwargs)

    # ---- interruptions -----------------------------------------------------------------------
    # skorch's convention is that a callback (EarlyStopping, IDEC's convergence test) stops
    # training by raising KeyboardInterrupt, and partial_fit swallows it; a KeyboardInterrupt
    # raised anywhere else is the user's Ctrl-C, which must not end the phase as if finished.
    def notify(self, method_name, **cb_kwargs):
        try:
            super().notify(method_name, **cb_kwargs)
        except KeyboardInterrupt:
            self.stop_requested_ = True
            raise

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        self.stop_requested_ = self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = not self.stop_requested_
            raise

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train for ``max_epochs`` (or ``epochs=``) more epochs.

        Unlike skorch's, a KeyboardInterrupt that no callback raised propagates (after
        ``on_train_end``) instead of ending the training silently.
        """
        super().partial_fit(X, y, classes, **fit_params)
        if self.interrupted_:
            raise KeyboardInterrupt(
                f"The {self.phase} was interrupted after {len(self.history)} epochs."
            )
        return self


class RepresentationNet(UnsupervisedNet):
    """Pretraining of an :class:`~skdeepclust.nn.autoencoders.Autoencoder`.

    With batches of samples (:class:`~skdeepclust.training.data.BatchDataset`) the loss is the
    reconstruction error. With batches of graph edges
    (:class:`~skdeepclust.training.data.EdgeDataset`) it is the neighbour-embedding loss of
    :func:`~skdeepclust.training.losses.neighbor_embedding_loss` plus ``reconstruction_weight``
    times the reconstruction error of both ends. With a ``feature_map`` (the DMAE paper's random
    Fourier feature initialisation) the encoder regresses ``feature_map(x)`` and the decoder
    learns to invert the (detached) codes.

    ``reconstruction_samples`` limits the reconstruction error to the first samples of each
    batch (the heads of the first edges: a random subset, edges being drawn at random). The
    encoder still sees every sample; only the decoder's share of the cost shrinks.

    Its :meth:`snapshot` is a copy of the encoder's weights on the CPU, for a caller that uses
    the encoder of an earlier epoch (``snapshot_epochs``).

    The module must expose ``encoder`` and ``decoder`` (the decoder may be None).
    """

    def __init__(
        self,
        *args,
        reconstruction_weight=1.0,
        curve=(1.577, 0.895),
        negative_sample_rate=5,
        feature_map=None,
        reconstruction_samples=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.reconstruction_weight = reconstruction_weight
        self.reconstruction_samples = reconstruction_samples
        self.curve = curve
        self.negative_sample_rate = negative_sample_rate
        self.feature_map = feature_map

    def snapshot(self) -> dict:
        encoder = self._autoencoder().encoder
        return {key: value.detach().cpu().clone() for key, value in encoder.state_dict().items()}

    def _autoencoder(self):
        return self.module_

    def _reconstruction(self, h, x):
        decoder = self._autoencoder().decoder
        if decoder is None or not self.reconstruction_weight:
            return None
        return F.mse_loss(self._forward(decoder, h), x)

    def _representation_terms(self, X):
        """Encode a batch; return the codes, their inputs and the representation loss terms."""
        encoder = self._autoencoder().encoder
        terms = {}
        if isinstance(X, (tuple, list)):
            # One augmentation call for both ends: half the per-call overhead of the transform.
            x = self._augmented(torch.cat([X[0], X[1]]))
            h = self._forward(encoder, x)
            h_head, h_tail = h.chunk(2)
            a, b = self.curve
            terms["graph_loss"] = neighbor_embedding_loss(
                h_head, h_tail, a=a, b=b, negative_sample_rate=self.negative_sample_rate
            )
            h, x = h_head, x[: len(h_head)]
        else:
            x = self._augmented(X)
            h = self._forward(encoder, x)
        if self.feature_map is not None:
            terms["feature_loss"] = F.mse_loss(h, self.feature_map(x))
            h = h.detach()
        n = self.reconstruction_samples
        rec = self._reconstruction(h[:n], x[:n])
        if rec is not None:
            terms["reconstruction_loss"] = rec
        return h, x, terms

    def losses(self, X, index):
        _, _, terms = self._representation_terms(X)
        weights = {
            "graph_loss": 1.0,
            "feature_loss": 1.0,
            "reconstruction_loss": self.reconstruction_weight,
        }
        terms["loss"] = sum(weights[name] * term for name, term in terms.items())
        return terms


class DMMNet(RepresentationNet):
    """Joint fine-tuning of the autoencoder and the dissimilarity mixture (DMAE step 3).

    Loss: ``lambda_r * MSE(decoder(mu~), x) + lambda_c * L_c`` (the paper's), plus
    ``graph_weight`` times the neighbour-embedding loss when trained on graph edges, plus
    ``scale_weight`` times :func:`~skdeepclust.training.losses.scale_penalty` (the guard
    against the latent collapse). The module must expose ``autoencoder`` and ``mixture``.
    """

    def __init__(
        self,
        *args,
        lambda_r=0.01,
        lambda_c=1.0,
        graph_weight=1.0,
        scale_weight=1.0,
        reference_scale=1.0,
        **kwargs,
    ):
        super().__init__(*args, reconstruction_weight=0.0, **kwargs)
        self.lambda_r = lambda_r
        self.lambda_c = lambda_c
        self.graph_weight = graph_weight
        self.scale_weight = scale_weight
        self.reference_scale = reference_scale

    def _autoencoder(self):
        return self.module_.autoencoder

    def _mixture_terms(self, h, index, terms):
        """The soft assignments of the codes ``h`` and the mixture's loss term."""
        mixture = self.module_.mixture
        S, _, _ = mixture(h)
        loss = self.lambda_c * mixture.clustering_loss(h, S)
        terms["clustering_loss"] = loss.detach()
        return S, loss

    def losses(self, X, index):
        h, x, terms = self._representation_terms(X)
        mixture = self.module_.mixture
        S, loss = self._mixture_terms(h, index, terms)
        decoder = self._autoencoder().decoder
        if decoder is not None and self.lambda_r:
            terms["reconstruction_loss"] = F.mse_loss(
                self._forward(decoder, mixture.soft_centers(S)), x
            )
            loss = loss + self.lambda_r * terms["reconstruction_loss"]
        if "graph_loss" in terms:
            loss = loss + self.graph_weight * terms["graph_loss"]
        if self.scale_weight:
            terms["scale_penalty"] = scale_penalty(h, self.reference_scale)
            loss = loss + self.scale_weight * terms["scale_penalty"]
        terms["loss"] = loss
        return terms


class DistillationNet(DMMNet):
    """Training of the encoder and the mixture to reproduce a given partition (beyond the paper).

    Loss: the negative log-likelihood of each sample's cluster in ``targets`` under the
    mixture's soft assignments, plus ``lambda_r`` times the reconstruction from ``mu~`` (as in
    :class:`DMMNet`) and, on graph edges, the neighbour-embedding loss. ``targets`` (an int64
    tensor on the net's device) is indexed by the sample indices that travel with the batches.
    """

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, scale_weight=0.0, **kwargs)
        self.targets = targets

    def _mixture_terms(self, h, index, terms):
        log_S = self.module_.mixture.log_assignments(h)
        loss = F.nll_loss(log_S, self.targets[index[: len(h)]])
        terms["distillation_loss"] = loss.detach()
        return log_S.exp(), loss


class ConsistencyNet(UnsupervisedNet):
    """Training of a cluster head on fixed codes with the neighbour-consistency loss.

    Batches are edges of a neighbour graph over the codes
    (:class:`~skdeepclust.training.data.EdgeDataset` built on the codes, not the inputs); the
    loss is :func:`~skdeepclust.training.losses.neighbor_consistency_loss`, consistency plus
    ``balance_weight`` times the negative entropy of the mean assignment. The module maps codes
    to cluster logits (:class:`~skdeepclust.nn.heads.ConsistencyHead`).
    """

    def __init__(self, *args, balance_weight=5.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.balance_weight = balance_weight

    def losses(self, X, index):
        h_head, h_tail = X
        logits = self._forward(self.module_, torch.cat([h_head, h_tail]))
        p_head, p_tail = torch.softmax(logits, 1).chunk(2)
        consistency, negative_entropy = neighbor_consistency_loss(
            p_head, p_tail, balance_weight=self.balance_weight
        )
        return {
            "consistency_loss": consistency,
            "balance_loss": negative_entropy,
            "loss": consistency + self.balance_weight * negative_entropy,
        }
