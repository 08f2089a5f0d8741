"""skorch nets of MCDC (Lutscher et al.) and its variants.

:class:`MixingNet` trains an autoencoder and a critic together, as in ACAI and MCDC: latent
codes are mixed with the codes of the reversed batch, the critic learns to predict the mixing
coefficient from the decoded mix, the autoencoder learns to fool it and, for MCDC, to decode
the mix as its dominant input. Its options give the plain autoencoder, ACAI, MCDC, their VAE
variants (mixing on the posterior means) and a neighbour-graph term. :class:`IDECNet` adds
IDEC's clustering loss for fine-tuning.

Two players, two optimisers, one backward pass: the critic's loss sees only detached inputs,
and the autoencoder's adversarial term sees the critic's parameters as constants, so the
gradients of the summed loss reach each player from its own loss only, and one backward pass
followed by a step of each optimiser performs both updates. No graph is reused after an
optimiser step (the bug that breaks the authors' code on current PyTorch).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from skorch.utils import TeeGenerator
from torch import nn

from .data import map_rows
from .losses import neighbor_embedding_loss
from .nets import UnsupervisedNet

__all__ = [
    "IDECNet",
    "MixingNet",
    "StudentTAssignment",
    "VariationalEncoder",
    "mix_with_reversed",
    "mixing_coefficients",
    "target_distribution",
]

# Mixing coefficients are drawn from U[0, MAX_MIX]: the first code always dominates the mix.
MAX_MIX = 0.5


def mixing_coefficients(n: int, *, device=None) -> torch.Tensor:
    """One mixing coefficient per sample, ``a ~ U[0, 0.5]`` (torch's global RNG)."""
    return MAX_MIX * torch.rand(n, device=device)


def mix_with_reversed(z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """``(1 - a) * z + a * z[reversed batch]``, one coefficient per row."""
    a = a.view(-1, *([1] * (z.dim() - 1)))
    return (1 - a) * z + a * z.flip(0)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's sharpened target ``p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j')``."""
    weight = q.pow(2) / q.sum(0)
    return weight / weight.sum(1, keepdim=True)


class VariationalEncoder(nn.Module):
    """A Gaussian posterior head: ``body`` outputs the mean and the log-variance side by side.

    ``forward`` returns the mean (the code used for clustering and ``transform``);
    :meth:`distribution` returns both halves.

    Parameters
    ----------
    body : nn.Module
        Maps flat rows to ``[B, 2 * latent_dim]`` (for a convolutional body: twice the latent
        channels, so the halves are channel groups).
    """

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.body(x).chunk(2, dim=1)
        return mean, log_var

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.distribution(x)[0]


class StudentTAssignment(nn.Module):
    """Learnable centres and DEC's Student-t soft assignments (one degree of freedom).

    ``q_ij = (1 + |z_i - mu_j|^2)^-1``, normalised over ``j``.

    Parameters
    ----------
    centers : Tensor of shape (n_clusters, latent_dim)
        Initial centres (copied).
    """

    def __init__(self, centers: torch.Tensor):
        super().__init__()
        self.centers = nn.Parameter(centers.detach().clone().float())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        kernel = 1.0 / (1.0 + torch.cdist(z, self.centers).pow(2))
        return kernel / kernel.sum(1, keepdim=True)


def _with_constant_parameters(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` with the parameters treated as constants: gradients reach ``x`` only."""
    constants = {name: p.detach() for name, p in module.named_parameters()}
    return torch.func.functional_call(module, constants, (x,))


class MixingNet(UnsupervisedNet):
    """Adversarially constrained, mixing consistent autoencoder training (ACAI / MCDC).

    Per batch ``x`` (augmented if ``augment`` is set), with ``a ~ U[0, 0.5]`` per sample::

        z      = enc(x)                       # posterior mean when variational
        x_mix  = dec((1 - a) * z + a * z[reversed])
        L_AE   = mse(dec(z), x) + mixing_weight * mse(x_mix, x)
                 + lambda_adv * mean(critic(x_mix)^2) [+ kl_weight * KL] [+ graph_weight * L_graph]
        L_crit = mean((critic(x_mix.detach()) - a)^2)
                 + mean(critic((gamma * x + (1 - gamma) * dec(z)).detach())^2)

    ``mixing_weight=0`` is ACAI, ``mixing_weight=1`` MCDC, and ``lambda_adv=0`` drops the
    critic altogether (``lambda_adv=0, mixing_weight=0``: a plain autoencoder). The minimised
    ``loss`` is ``L_AE + L_crit``; each player's parameters get gradients from its own term only
    (see the module docstring), and the history records both.

    Parameters
    ----------
    module : Autoencoder
        Its ``encoder`` is a :class:`VariationalEncoder` when ``variational``.
    critic : nn.Module
        Maps flat rows to one score per row. Trained by ``optimizer_critic_``, an instance of
        ``optimizer`` with the same settings as the autoencoder's.
    lambda_adv : float, default=0.5
        Weight of the autoencoder's adversarial term.
    gamma : float, default=0.2
        Blend of inputs and reconstructions the critic must score 0 (ACAI's regulariser).
    mixing_weight : float, default=1.0
        Weight of the mixing consistency term.
    variational : bool, default=False
        Sample ``z = mean + exp(log_var / 2) * eps`` for the reconstruction and add the KL
        divergence to the standard normal prior; mixing is done on the means.
    kl_weight : float, default=1.0
        Weight of the KL term, which is summed over latent dimensions, averaged over samples
        and divided by the number of features (the scale of the per-feature mse).
    graph_weight : float, default=1.0
        Weight of :func:`~skdeepclust.training.losses.neighbor_embedding_loss` when the
        batches are graph edges (:class:`~skdeepclust.training.data.EdgeDataset`).
    curve : tuple (a, b), default=(1.577, 0.895)
        Parameters of the neighbour-embedding similarity curve.
    negative_sample_rate : int, default=5
        Negatives per edge of the neighbour-embedding loss.
    mixing_batch_size : int, default=None
        With graph batches, the terms other than the graph term are computed on the heads of
        the first ``mixing_batch_size`` edges only (None: all heads), so that the graph term
        can see large batches at a small extra cost.
    **kwargs
        Passed to :class:`~skdeepclust.training.nets.UnsupervisedNet`.
    """

    def __init__(
        self,
        *args,
        critic,
        lambda_adv=0.5,
        gamma=0.2,
        mixing_weight=1.0,
        variational=False,
        kl_weight=1.0,
        graph_weight=1.0,
        curve=(1.577, 0.895),
        negative_sample_rate=5,
        mixing_batch_size=None,
        **kwargs,
    ):
        # Modules must be stored before skorch's __init__ marks the net as constructed.
        self.critic = critic
        super().__init__(*args, **kwargs)
        self.lambda_adv = lambda_adv
        self.gamma = gamma
        self.mixing_weight = mixing_weight
        self.variational = variational
        self.kl_weight = kl_weight
        self.graph_weight = graph_weight
        self.curve = curve
        self.negative_sample_rate = negative_sample_rate
        self.mixing_batch_size = mixing_batch_size

    # ---- modules and optimisers --------------------------------------------------------------
    def initialize_module(self):
        super().initialize_module()
        self.critic_ = self.initialized_instance(self.critic, self.get_params_for("critic"))
        return self

    def snapshot(self) -> dict:
        """Copies of the autoencoder's and the critic's weights, on the CPU.

        :meth:`load_snapshot` puts them back, so that a caller can end the training at an
        earlier epoch (``snapshot_epochs``) without a second training.
        """
        return {
            name: {key: value.detach().cpu().clone() for key, value in module.state_dict().items()}
            for name, module in (("module", self.module_), ("critic", self.critic_))
        }

    def load_snapshot(self, weights: dict) -> None:
        """Load weights that :meth:`snapshot` returned into the autoencoder and the critic."""
        self.module_.load_state_dict(weights["module"])
        self.critic_.load_state_dict(weights["critic"])

    def _autoencoder_parameters(self):
        """Parameters updated by the autoencoder's optimiser."""
        return self.module_.named_parameters()

    def initialize_optimizer(self, triggered_directly=None):
        args, kwargs = self.get_params_for_optimizer("optimizer", self._autoencoder_parameters())
        self.optimizer_ = self.optimizer(*args, **kwargs)
        args, kwargs = self.get_params_for_optimizer("optimizer", self.critic_.named_parameters())
        self.optimizer_critic_ = self.optimizer(*args, **kwargs)
        return self

    def train_step(self, batch, **fit_params):
        """One forward and backward pass, then a step of each optimiser.

        skorch's default would pass the whole step as a closure to every optimiser, running
        the forward and backward passes once per optimiser.
        """
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        self._step_optimizer(None)
        return step

    # ---- losses ------------------------------------------------------------------------------
    def _posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        encoder = self.module_.encoder
        if self.variational:
            return self._forward(encoder.distribution, x)
        return self._forward(encoder, x), None

    def _encode_batch(self, X) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, dict]:
        """Inputs, codes (means), log-variances and the graph term of a batch."""
        if not isinstance(X, (tuple, list)):
            x = self._augmented(X)
            return (x, *self._posterior(x), {})
        heads = len(X[0])
        x = torch.cat([self._augmented(X[0]), self._augmented(X[1])])
        z, log_var = self._posterior(x)
        a, b = self.curve
        graph = neighbor_embedding_loss(
            z[:heads], z[heads:], a=a, b=b, negative_sample_rate=self.negative_sample_rate
        )
        # The other terms use the first mixing_batch_size heads (the edges are shuffled).
        keep = heads if self.mixing_batch_size is None else min(heads, self.mixing_batch_size)
        log_var = None if log_var is None else log_var[:keep]
        return x[:keep], z[:keep], log_var, {"graph_loss": graph}

    def losses(self, X, index) -> dict:
        x, z, log_var, terms = self._encode_batch(X)
        decoder = self.module_.decoder
        weighted = [(self.graph_weight, "graph_loss")] if terms else []

        z_sample = z
        if self.variational:
            z_sample = z + torch.randn_like(z) * (0.5 * log_var).exp()
            kl = 0.5 * (z.pow(2) + log_var.exp() - 1.0 - log_var).sum(1).mean()
            terms["kl_loss"] = kl / x.shape[1]
            weighted.append((self.kl_weight, "kl_loss"))

        if self.mixing_weight or self.lambda_adv:
            a = mixing_coefficients(len(z), device=z.device)
            # One decoder pass for both sets of codes.
            decoded = self._forward(decoder, torch.cat([z_sample, mix_with_reversed(z, a)]))
            reconstruction, x_mix = decoded.chunk(2)
        else:
            reconstruction = self._forward(decoder, z_sample)
        terms["reconstruction_loss"] = F.mse_loss(reconstruction, x)
        weighted.append((1.0, "reconstruction_loss"))

        if self.mixing_weight:
            terms["mixing_loss"] = F.mse_loss(x_mix, x)
            weighted.append((self.mixing_weight, "mixing_loss"))
        critic_loss = None
        if self.lambda_adv:
            terms["adversarial_loss"] = (
                self._forward(_with_constant_parameters, self.critic_, x_mix).pow(2).mean()
            )
            weighted.append((self.lambda_adv, "adversarial_loss"))
            blend = self.gamma * x + (1 - self.gamma) * reconstruction
            scores = self._forward(self.critic_, torch.cat([x_mix, blend]).detach())
            score_mix, score_blend = scores.chunk(2)
            critic_loss = (score_mix - a).pow(2).mean() + score_blend.pow(2).mean()

        # With graph batches index holds the heads, of which z keeps the first len(z).
        weighted += self._extra_terms(z, index[: len(z)], terms)
        autoencoder_loss = sum(weight * terms[name] for weight, name in weighted)
        terms["autoencoder_loss"] = autoencoder_loss
        terms["loss"] = autoencoder_loss
        if critic_loss is not None:
            terms["critic_loss"] = critic_loss
            terms["loss"] = autoencoder_loss + critic_loss
        return terms

    def _extra_terms(self, z: torch.Tensor, index: torch.Tensor, terms: dict) -> list:
        """Hook for subclasses: add terms to ``terms``, return their ``(weight, name)``."""
        return []


class IDECNet(MixingNet):
    """:class:`MixingNet` plus IDEC's clustering loss ``clustering_weight * KL(P || Q)``.

    ``Q`` are the Student-t soft assignments of the codes to the learnable centres of
    ``assignment``. The target ``P`` (:func:`target_distribution`) is computed on the whole
    training set, in its fixed row order, before the first batch and every
    ``update_interval`` batches; each batch looks its rows up by the sample indices that
    :class:`~skdeepclust.training.data.BatchDataset` yields, so shuffling cannot misalign
    targets and samples. Training stops before the next epoch once fewer than a fraction
    ``tol`` of the hard assignments changed between two updates. With ``mixing_weight=0`` and
    ``lambda_adv=0`` this is IDEC (``mse + 0.1 KL`` in the paper); otherwise MCDC+IDEC.

    Parameters
    ----------
    module : Autoencoder
    assignment : StudentTAssignment
        Holds the centres, trained with the autoencoder's optimiser.
    clustering_weight : float, default=0.1
        IDEC's ``gamma``.
    update_interval : int, default=140
        Batches between target updates.
    tol : float, default=1e-3
        Stopping threshold on the fraction of changed labels; 0 never stops early.
    **kwargs
        Passed to :class:`MixingNet`.

    Attributes
    ----------
    target_ : Tensor of shape (n_samples, n_clusters)
        The current target distribution (during training).
    delta_labels_ : list of float
        Fraction of changed labels at each update after the first.
    """

    # The training state a resumed phase needs (see skdeepclust.training.checkpoint).
    _checkpoint_attributes = (
        *MixingNet._checkpoint_attributes,
        "target_",
        "assignments_",
        "delta_labels_",
        "converged_",
        "n_batches_",
    )

    def __init__(
        self,
        *args,
        assignment,
        clustering_weight=0.1,
        update_interval=140,
        tol=1e-3,
        **kwargs,
    ):
        self.assignment = assignment
        super().__init__(*args, **kwargs)
        self.clustering_weight = clustering_weight
        self.update_interval = update_interval
        self.tol = tol

    def initialize_module(self):
        super().initialize_module()
        self.assignment_ = self.initialized_instance(
            self.assignment, self.get_params_for("assignment")
        )
        return self

    def _autoencoder_parameters(self):
        yield from self.module_.named_parameters()
        yield from self.assignment_.named_parameters()

    def soft_assignments(self, X, batch_size: int = 1024) -> torch.Tensor:
        """``Q`` for every row of ``X`` (array or sparse matrix), in order, in eval mode."""
        self._set_training(False)
        encoder = self.module_.encoder
        return map_rows(
            lambda x: self.assignment_(encoder(x)), X, device=self.device, batch_size=batch_size
        )

    def _update_target(self) -> None:
        q = self.soft_assignments(self.train_X_)
        labels = q.argmax(1)
        if self.assignments_ is not None:
            self.delta_labels_.append(float((labels != self.assignments_).float().mean()))
            self.converged_ = self.delta_labels_[-1] < self.tol
        self.target_, self.assignments_ = target_distribution(q), labels

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.train_X_, self.assignments_, self.target_ = X, None, None
        self.delta_labels_, self.converged_, self.n_batches_ = [], False, 0

    def on_epoch_begin(self, net, **kwargs):
        # Stopping here, before the epoch's history row exists, keeps the history complete.
        if self.converged_:
            raise KeyboardInterrupt
        super().on_epoch_begin(net, **kwargs)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        super().on_batch_begin(net, batch=batch, training=training, **kwargs)
        if training:
            if self.n_batches_ % self.update_interval == 0:
                self._update_target()
            self.n_batches_ += 1

    def on_train_end(self, net, X=None, y=None, **kwargs):
        # The training data must not be kept (nor pickled) with the net.
        self.train_X_ = None
        super().on_train_end(net, X=X, y=y, **kwargs)

    def _extra_terms(self, z, index, terms):
        q = self.assignment_(z)
        p = self.target_[index]
        terms["clustering_loss"] = (
            (p * (p.clamp_min(1e-12).log() - q.clamp_min(1e-12).log())).sum(1).mean()
        )
        return [(self.clustering_weight, "clustering_loss")]
