"""Mixing Consistent Deep Clustering (Lutscher et al.) as a scikit-learn clusterer."""

from __future__ import annotations

import math
from functools import partial
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted
from torch import nn

from ._base import BaseDeepClustering, _probabilities
from .augmentation import ImageAugmenter
from .latent import class_pca_spectrum, pca_whitening
from .neighbors import umap_curve_parameters
from .nn.autoencoders import (
    Autoencoder,
    build_autoencoder,
    is_custom_autoencoder,
    set_input_statistics,
)
from .nn.conv import build_critic, build_mlp_critic, working_side
from .training.adversarial import IDECNet, MixingNet, StudentTAssignment, VariationalEncoder
from .training.data import (
    BatchDataset,
    EdgeDataset,
    batch_loader,
    edge_batches_per_epoch,
    edge_loader,
    with_min_graph_steps,
)

__all__ = ["MCDCClustering", "class_pca_spectrum"]

# What each profile uses for the parameters left at None / "auto". "paper" is MCDC as published
# (convolutional ACAI autoencoder with 16 latent channels, Adam 1e-4, 400 epochs); "default"
# adds a neighbour-graph term and trains a smaller network faster (see the Notes).
_PROFILES = {
    "default": dict(
        pretrain="graph",
        depth=8,
        latent_channels=4,
        mlp_latent_dim=10,
        hidden_dims=(256, 256),
        # 1e-3 gave lower ACC / NMI, 3 seeds: digits 0.941 / 0.904 vs 0.948 / 0.920, two
        # moons (with the step floor) 0.763 vs 0.964; Fashion-MNIST, 1 seed: 0.560 / 0.561 vs
        # 0.572 / 0.578.
        lr=2e-3,
        graph_batch_size=512,
    ),
    "paper": dict(
        pretrain="autoencoder",
        depth=16,
        latent_channels=16,
        mlp_latent_dim=10,
        hidden_dims=(500, 500, 2000),
        lr=1e-4,
        epochs=400,
        graph_batch_size=512,
    ),
}
# IDEC's settings: KMeans restarts of the centres and the stopping threshold on label changes.
_IDEC_N_INIT = 20
_IDEC_TOL = 1e-3
# MCDC's floor of steps on small graphs, in units of DMAE's (MIN_GRAPH_STEPS): 7,200 steps,
# 100 epochs of the digits graph. The mixing term needs the longer training to help: on digits
# (10 seeds, median ACC / NMI against ACAI's) 32 epochs gave 0.946 / 0.914 against 0.948 / 0.919,
# 60 epochs 0.952 / 0.925 against 0.951 / 0.924, and 100 epochs 0.956 / 0.933 against 0.953 /
# 0.926, in about 40 s a fit.
_MIXING_STEPS_SCALE = 3.2
# Weight of the VAE's KL term, which is divided by the number of features like the mse (at 1
# this is the ELBO of a Gaussian decoder with variance 1/2, a loose fit to data in [0, 1]).
_KL_WEIGHT = 0.1
# The resolved settings that define the networks' architecture.
_ARCHITECTURE = ("kind", "image_shape", "hidden_dims", "latent_dim", "depth")


def _auto_epochs(n_samples: int, graph: bool) -> int:
    """Epoch budget from the data size: more passes over small data, fewer over large data."""
    if graph:
        # An epoch samples as many edges as the graph has (about 1.5 * n_neighbors * n).
        return int(np.clip(round(1_200 / math.sqrt(n_samples)), 3, 60))
    return int(np.clip(round(100_000 / n_samples), 5, 200))


def _build_networks(
    n_features: int,
    *,
    kind: str | Autoencoder,
    image_shape,
    hidden_dims: tuple,
    latent_dim: int,
    depth: int,
    variational: bool,
) -> tuple[Autoencoder, nn.Module]:
    """The autoencoder (with a Gaussian posterior head when variational) and the critic.

    ``kind`` is "mlp", "conv" or an autoencoder used as is (a checked copy of the user's), which
    gets the MLP critic. Also what :mod:`skdeepclust.persistence` rebuilds a fitted model's
    modules with.
    """
    if isinstance(kind, Autoencoder):
        module = kind
    else:
        shared = dict(hidden_dims=hidden_dims, image_shape=image_shape, depth=depth)
        module = build_autoencoder(kind, n_features, latent_dim=latent_dim, **shared)
        if variational:
            # The encoder outputs the means and log-variances side by side.
            encoder = build_autoencoder(kind, n_features, latent_dim=2 * latent_dim, **shared)
            module = Autoencoder(VariationalEncoder(encoder.encoder), module.decoder)
    if kind == "conv":
        critic = build_critic(image_shape, latent_dim=latent_dim, depth=depth)
    else:
        critic = build_mlp_critic(n_features, hidden_dims=hidden_dims, latent_dim=latent_dim)
    return module, critic


class MCDCClustering(BaseDeepClustering):
    """Mixing Consistent Deep Clustering, with its ACAI, IDEC and VAE variants.

    An autoencoder is trained with ACAI's adversarial interpolation game plus MCDC's mixing
    consistency loss: codes are mixed with the codes of other samples, ``z_mix = (1 - a) z +
    a z'`` with ``a ~ U[0, 0.5]``; a critic learns to predict ``a`` from the decoded mix, the
    autoencoder learns to fool it (``lambda_adv``) and to decode the mix as its dominant input
    ``x`` (``mixing_weight``). Mixes between clusters are then penalised, which pushes the
    clusters apart. The codes are then centred (and PCA-whitened, see ``whiten``), and KMeans
    partitions them.

    ``mixing_weight=0`` gives ACAI, ``mixing_weight=0, lambda_adv=0`` a plain autoencoder,
    ``clustering_loss="idec"`` fine-tunes with IDEC's clustering loss (MCDC+IDEC) and
    ``variational=True`` trains a VAE, mixing its posterior means (MCDC+VAE).
    On images, the default ``head="auto"`` (beyond the paper) then assigns the clusters with
    MLP heads trained on the codes instead of the KMeans centres; ``head="kmeans"`` keeps the
    paper's assignments.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    image_shape : "auto", tuple (channels, height, width) or None, default="auto"
        Layout of the flat rows as images, used by the convolutional autoencoder and by
        augmentation. "auto" takes it from 4-D input ``(n, C, H, W)``, else infers
        ``(1, s, s)`` for dense non-negative data with ``s * s`` features, ``s >= 8``. None
        treats the data as tabular.
    autoencoder : {"auto", "conv", "mlp"}, tuple (encoder, decoder) or Autoencoder, \
            default="auto"
        "conv" is ACAI's convolutional autoencoder (images only; sides below 16 are enlarged
        to 16, others zero-padded to a multiple of 8, see
        :func:`skdeepclust.nn.conv.working_side`); "mlp" a fully connected one. "auto": in
        the paper profile "conv" when an image shape is known, else "mlp"; in the default
        profile "mlp": on CPU it ran more than 10 times faster per batch than the
        convolutional one on 8x8 digits, and with the graph term it reached 0.94 ACC there.
        Your own networks: a pair of ``torch.nn.Module`` (or a
        :class:`skdeepclust.nn.autoencoders.Autoencoder`) whose encoder maps float32 rows
        ``[B, n_features]`` to codes ``[B, latent_dim]`` and whose decoder maps codes back to
        ``[B, n_features]``; the critic is then the MLP one. ``fit`` trains a deep copy, so the
        modules you pass keep their weights and every fit starts from them. Not with
        ``variational=True``.
    depth : int, default=None
        Channels of the first convolutional block. None: 16 (paper) or 8 (default profile).
    latent_dim : int, default=None
        Size of the latent space. For "conv" a multiple of the latent map's area,
        ``(working_side / 8)^2`` (4 for 8x8 images, 16 for 28x28). None: for "conv", 16
        latent channels (paper; 256-d for 32x32 images) or 4 (default profile), fewer when
        the code would exceed a quarter of the input's size (16-d for 8x8 digits, 192-d
        for 28x28 images in the paper profile); 10 for "mlp". With your own modules it is
        the width of the encoder's output, and this parameter is unused.
    hidden_dims : tuple of int, default=None
        Hidden widths of the MLP encoder (and critic). None: (256, 256) in the default
        profile, (500, 500, 2000) in the paper profile. With your own modules they size the
        critic only.
    lambda_adv : float, default=0.5
        Weight of the autoencoder's adversarial term (``lambda`` in the paper); 0 removes the
        critic.
    gamma : float, default=0.2
        The critic must score ``gamma * x + (1 - gamma) * reconstruction`` as unmixed.
    mixing_weight : float, default=1.0
        Weight of the mixing consistency loss; 0.0 is ACAI.
    clustering_loss : {"idec"} or None, default=None
        "idec": after the mixing training, initialise Student-t centres with KMeans and
        fine-tune with ``clustering_weight * KL(P || Q)`` added (MCDC+IDEC).
    clustering_weight : float, default=0.1
        Weight of IDEC's clustering loss.
    variational : bool, default=False
        Train a VAE (reparameterised latent, KL term); codes are the posterior means.
    epochs : int or "auto", default="auto"
        Epochs of the mixing training. "auto": 400 in the paper profile, else a budget from the
        number of samples: ``1200 / sqrt(n_samples)`` epochs of graph edges, clipped to [3, 60]
        but at least 7,200 batches of edges within 500 epochs (100 epochs for 1,797 digits, 206
        for two moons of 1,000 points, 500 for the 178 wines, 5 for 70,000 images), or
        ``100000 / n_samples`` epochs of samples without the graph, clipped to [5, 200]. With the
        consistency heads, the graph and no clustering loss, a budget under 10 epochs becomes
        10 epochs whose model may end at the budget's last epoch: the heads are trained on the
        codes of both, and the weights whose heads have the lower median objective are kept
        (``head_pretrain_epoch_``). On Fashion-MNIST (5 seeds) 10 epochs gave the heads better
        codes on every seed (median ACC / NMI 0.679 / 0.650 against 0.664 / 0.644).
    finetune_epochs : int or "auto", default="auto"
        Maximum epochs of the IDEC fine-tuning (it stops earlier once fewer than 0.1 % of the
        labels change between target updates); "auto" is a quarter of ``epochs``.
    batch_size : int, default=64
        Samples per batch (the paper's 64). With graph pretraining, batches hold 512 edges
        for the graph term and the other terms use the first ``batch_size`` of their heads.
    lr : float, default=None
        Adam's learning rate for both networks. None: 1e-4 (paper) or 2e-3 (default profile).
    kmeans_n_init : int, default=20
        KMeans restarts on the codes; the best inertia wins. The papers used 1000, which
        costs 50 times as long. On the default profile's codes of sklearn's digits, 20
        restarts found the same partition as 1000 (0.1 s instead of 3 s). On weakly
        clustered codes (the paper profile after 15 epochs) restarts ended within 0.5 % of
        the best inertia with ACC anywhere from 0.63 to 0.75, and more restarts did not
        raise the ACC: they pick the lowest inertia, not the best partition.
    whiten : bool or "auto", default="auto"
        PCA-whiten the codes before KMeans (the papers' protocol); False only centres them.
        "auto" whitens unless ``pretrain`` is "graph": the neighbour-embedding loss already
        makes euclidean distances between codes meaningful, and whitening them (which
        stretches directions of small variance) cut the ACC on sklearn's digits from 0.94 to
        0.79.
    head : {"auto", "kmeans", "consistency"}, default="auto"
        What assigns the clusters. "kmeans": the nearest KMeans centre (the paper). "consistency",
        beyond the paper: MLP heads (codes -> 256 -> 256 -> ``n_clusters``) are trained on the
        fixed codes KMeans clustered with SCAN's loss over the input's ``n_neighbors`` graph
        (neighbours agree, plus a balance term weighted by ``head_balance``), and their averaged
        probabilities give ``predict_proba``, ``predict`` and ``labels_``. They can split groups
        that KMeans merges: on Fashion-MNIST (3 seeds) the median ACC / NMI rose from 0.579 / 0.614
        to 0.656 / 0.626 for about 90 s more. The balance term assumes clusters of similar sizes:
        on breast cancer (212 and 357 samples) the ACC fell from 0.947 to 0.858, and on two moons
        from 0.934 to 0.784 (see the user guide). "auto": "consistency" for images of at least 16
        pixels a side (an image shape given or inferred) in the default profile, whose benchmark
        classes have similar sizes, "kmeans" otherwise (tabular data, ``profile="paper"``, the
        8 x 8 digits, where the heads took 45% of the fit for no gain); where the heads it
        chose leave a cluster empty, ``fit`` warns and keeps KMeans's assignments. KMeans still
        runs: ``cluster_centers_``, :meth:`prototypes` and :meth:`score` describe its partition,
        whose cluster k need not be the head's.
    head_restarts : int, default=5
        Heads trained from different random weights when ``fit`` uses them. Their
        clusters are matched to those of the head with the lowest label-free objective
        (``head_objectives_``), and their probabilities averaged.
    head_balance : float, default=5.0
        Weight of the consistency head's balance term (the negative entropy of the mean
        assignment), which keeps the heads from putting everything in one cluster and pulls the
        clusters towards equal sizes. Lower it for clusters of unequal sizes: at 1 the heads gave
        0.912 on breast cancer (0.858 at 5; KMeans 0.947) and 0.929 on two moons (0.784 at 5;
        KMeans 0.934). Below about 0.5 the heads can put every sample in one cluster (0.3 did on
        breast cancer, 3 seeds); ``fit`` warns (``ConvergenceWarning``) when the heads leave a
        cluster empty.
    head_overclustering : int, default=1
        Clusters per head, as a multiple of ``n_clusters``; they are merged back into
        ``n_clusters`` groups along the neighbour graph
        (:func:`skdeepclust.nn.heads.merge_clusters`), as in
        :class:`~skdeepclust.DMAEClustering`, whose docstring gives what it measured there. Not
        measured with MCDC's codes on Fashion-MNIST.
    profile : {"default", "paper"}, default="default"
        Which settings fill the parameters left at None / "auto" (see Notes).
    pretrain : {"auto", "graph", "autoencoder"}, default="auto"
        "autoencoder": the mixing training alone (the paper). "graph": add UMAP's
        neighbour-embedding loss on sampled edges of the ``n_neighbors`` graph of the inputs
        (see :func:`skdeepclust.training.losses.neighbor_embedding_loss`). "auto": the
        profile's ("graph" default, "autoencoder" paper).
    n_neighbors : int, default=15
        Neighbours per sample of the graph (of the graph pretraining and of the consistency
        head).
    graph_features : {"auto", "input", "hog"}, default="auto"
        What the neighbour graph's neighbours are searched on: the rows of ``X`` ("input"), or
        gradient histograms next to the pixels ("hog", images of at least 8 x 8 pixels);
        "auto" is "hog" for images with sides of at least 16 pixels. See
        :class:`DMAEClustering` for the details, and the user guide for MCDC's measurements.
    graph_weight : float, default=1.0
        Weight of the neighbour-embedding term with ``pretrain="graph"``; the paper's terms
        keep their weights. Lower values give the MCDC terms more say: on sklearn's digits
        (3 seeds) MCDC then fell below ACAI, 0.939 against 0.950 median ACC at 0.1 and 0.880
        against 0.932 at 0.03, while at 1 the two tie (see the user guide).
    augmentation : bool, default=True
        Train on small random rotations and shifts of image inputs (needs an image shape;
        unused by the paper profile).
    device : str or torch.device, default="cpu"
        "cpu", "cuda", "cuda:1", ... or "auto".
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of the networks during training. "bfloat16" runs their forward and backward
        passes under :func:`torch.autocast` (parameters, optimiser states, distances and losses
        stay float32); "auto" picks it where the device multiplies bfloat16 natively (CPUs with
        AVX512-BF16 or AMX, recent GPUs; measured 1.9-2.1x the float32 training throughput on 2
        AMD EPYC cores) and float32 elsewhere. Inference always runs in float32.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, mixing coefficients, sampling, augmentation and KMeans; an int gives
        identical results across fits on CPU.
    verbose : int, default=0
        1 prints the phases, each with one progress bar over all its batches; 2 also
        skorch's per-epoch table.
    callbacks : list of skorch callbacks, default=None
        Added to every training phase.
    checkpoint_dir : str, path-like or None, default=None
        Directory where each training phase (mixing training, IDEC fine-tuning) saves a
        checkpoint every ``checkpoint_every`` epochs and when it ends, so that an interrupted
        fit can be resumed with ``fit(X, resume_from=checkpoint_dir)``. A fit without
        ``resume_from`` deletes the checkpoints already in the directory.
    checkpoint_every : int, default=1
        Epochs between two checkpoints of a phase.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    cluster_centers_ : ndarray of shape (n_clusters, latent_dim)
        KMeans centres in the whitened (or only centred, see ``whiten``) latent space.
    head_ : ConsensusHead or None
        The trained heads when ``fit`` used them (``head="consistency"``, or "auto" on images),
        which map whitened codes to cluster log-probabilities (see
        :class:`~skdeepclust.nn.heads.ConsensusHead`); None when KMeans assigns the clusters.
    head_objectives_ : ndarray of shape (head_restarts,) or None
        With the heads: the objective of each restart (lower is better).
    head_pretrain_epoch_ : int or None
        When the heads chose between two epochs of the mixing training (see ``epochs``): the
        epoch whose weights the model keeps (``pretrain_history_`` and ``n_iter_`` still count
        every epoch trained); None otherwise.
    latent_mean_ : ndarray of shape (latent_dim,)
        Mean of the training codes.
    latent_components_ : ndarray of shape (latent_dim, latent_dim)
        Principal axes of the training codes (identity when ``whiten=False``).
    latent_scale_ : ndarray of shape (latent_dim,)
        Standard deviations along them plus 1e-5 (ones when ``whiten=False``).
    image_shape_ : tuple (channels, height, width) or None
        The image layout used.
    module_ : Autoencoder
        The trained autoencoder (``module_.encoder``, ``module_.decoder``).
    critic_ : torch.nn.Module
        The trained critic.
    encoder_ : torch.nn.Module
        ``module_.encoder`` (returns the posterior means when ``variational``).
    net_ : skorch.NeuralNet
        The last training phase's net; its ``history`` records every loss term per epoch.
    pretrain_history_ : skorch.History
        History of the mixing training (the same as ``net_.history`` without IDEC).
    n_iter_ : int
        Epochs run, all phases together.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    See Also
    --------
    DMAEClustering : Dissimilarity mixture autoencoder.
    skdeepclust.latent.class_pca_spectrum : Per-class PCA spectra of the codes.

    Notes
    -----
    Profiles fill the parameters left at None / "auto". "paper": MCDC as published, the ACAI
    convolutional autoencoder with ``depth=16`` and 16 latent channels for images (fewer for
    small images, see ``latent_dim``; an MLP (500, 500, 2000) with 10 latent dimensions for
    tabular data), Adam with lr 1e-4, batches of 64, 400 epochs, whitened codes, no graph and
    no augmentation. "default": the MCDC losses plus the neighbour-graph term, with small
    random rotations and shifts of images, an MLP (256, 256) with 10 latent dimensions
    (``depth=8`` and 4 latent channels if "conv" is asked for), Adam with lr 2e-3, an epoch
    budget from the data size, unwhitened codes and (on images) the consistency heads. On
    sklearn's digits (X / 16, 10 seeds, 2 CPU cores) the default profile trains 100 epochs (the
    floor of 7,200 graph steps) and reaches a median ACC / NMI of 0.956 / 0.933 in 38 s,
    against 0.953 / 0.926 for ACAI (``mixing_weight=0``; MCDC ahead on 6 seeds, level on 2).
    With the earlier floor of 2,250 steps (32 epochs) the two tied (0.946 / 0.914 against 0.948
    / 0.919) and two moons reached 0.964 instead of 1.000 (3 seeds); with lr 1e-3 and no floor
    (28 epochs) digits gave 0.941 / 0.904. The neighbour graph contributes most of the accuracy
    on digits. The paper profile at lr 1e-3 needs a longer budget: after 15 epochs the plain
    autoencoder beat ACAI and MCDC (median ACC 0.801, 0.754, 0.767; 3 seeds); after 150 epochs
    (5 seeds, about 150 s a fit) MCDC beat ACAI in NMI on every seed (medians ACC / NMI 0.886 /
    0.840 against 0.872 / 0.829); the paper trains for 400 epochs. On Fashion-MNIST with the
    default profile and its heads (3 seeds), ACAI and MCDC both beat the plain graph
    autoencoder (median ACC / NMI 0.679 / 0.639 and 0.676 / 0.649 against 0.612 / 0.627), and
    KMeans on the three models' codes ties (about 0.59 / 0.64).

    :meth:`score` is the negative fraction of the variance of the codes left unexplained by
    the clusters, comparable across ``mixing_weight``, ``lambda_adv`` and architectures.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeepclust import MCDCClustering
    >>> X = load_digits().data[:200] / 16
    >>> est = MCDCClustering(n_clusters=10, epochs=1, random_state=0).fit(X)
    >>> est.labels_.shape, est.transform(X).shape, est.predict_proba(X[:3]).shape
    ((200,), (200, 10), (3, 10))
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepClustering._parameter_constraints,
        "image_shape": [StrOptions({"auto"}), tuple, list, None],
        "autoencoder": [StrOptions({"auto", "conv", "mlp"}), Autoencoder, tuple],
        "depth": [Interval(Integral, 1, None, closed="left"), None],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_dims": [tuple, list, None],
        "lambda_adv": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, 1, closed="both")],
        "mixing_weight": [Interval(Real, 0, None, closed="left")],
        "clustering_loss": [StrOptions({"idec"}), None],
        "clustering_weight": [Interval(Real, 0, None, closed="left")],
        "variational": ["boolean"],
        "epochs": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "finetune_epochs": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither"), None],
        "kmeans_n_init": [Interval(Integral, 1, None, closed="left")],
        "whiten": [StrOptions({"auto"}), "boolean"],
        "profile": [StrOptions({"default", "paper"})],
        "pretrain": [StrOptions({"auto", "graph", "autoencoder"})],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "graph_features": [StrOptions({"auto", "input", "hog"})],
        "graph_weight": [Interval(Real, 0, None, closed="left")],
        "augmentation": ["boolean"],
        "head": [StrOptions({"auto", "kmeans", "consistency"})],
        "head_restarts": [Interval(Integral, 1, None, closed="left")],
        "head_balance": [Interval(Real, 0, None, closed="left")],
        "head_overclustering": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        image_shape="auto",
        autoencoder="auto",
        depth=None,
        latent_dim=None,
        hidden_dims=None,
        lambda_adv=0.5,
        gamma=0.2,
        mixing_weight=1.0,
        clustering_loss=None,
        clustering_weight=0.1,
        variational=False,
        epochs="auto",
        finetune_epochs="auto",
        batch_size=64,
        lr=None,
        kmeans_n_init=20,
        whiten="auto",
        head="auto",
        head_restarts=5,
        head_balance=5.0,
        head_overclustering=1,
        profile="default",
        pretrain="auto",
        n_neighbors=15,
        graph_features="auto",
        graph_weight=1.0,
        augmentation=True,
        device="cpu",
        precision="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        checkpoint_dir=None,
        checkpoint_every=1,
    ):
        self.n_clusters = n_clusters
        self.image_shape = image_shape
        self.autoencoder = autoencoder
        self.depth = depth
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.lambda_adv = lambda_adv
        self.gamma = gamma
        self.mixing_weight = mixing_weight
        self.clustering_loss = clustering_loss
        self.clustering_weight = clustering_weight
        self.variational = variational
        self.epochs = epochs
        self.finetune_epochs = finetune_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.kmeans_n_init = kmeans_n_init
        self.whiten = whiten
        self.head = head
        self.head_restarts = head_restarts
        self.head_balance = head_balance
        self.head_overclustering = head_overclustering
        self.profile = profile
        self.pretrain = pretrain
        self.n_neighbors = n_neighbors
        self.graph_features = graph_features
        self.graph_weight = graph_weight
        self.augmentation = augmentation
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every

    # ---- input -------------------------------------------------------------------------------
    def _validate_X(self, X, *, reset: bool):
        """Validate like the base class, after flattening 4-D image arrays (n, C, H, W)."""
        if getattr(X, "ndim", None) == 4 and not sp.issparse(X):
            X = np.asarray(X)
            if reset:
                self._input_image_shape = X.shape[1:]
            X = X.reshape(len(X), -1)
        elif reset:
            self._input_image_shape = None
        return super()._validate_X(X, reset=reset)

    # ---- fit ---------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, resume_from=None):
        """Train the autoencoder (and critic), then cluster the whitened codes with KMeans.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or (n_samples, C, H, W)
            Training data; float64 input is trained in float32 (a float64 2-D memmap is not
            copied: its batches are converted as they are read). 4-D arrays are images.
        y : Ignored
            Not used, present for API consistency.
        resume_from : str, path-like or None, default=None
            The ``checkpoint_dir`` of an interrupted fit on the same ``X`` with the same
            parameters (``device``, ``verbose``, ``callbacks`` and the checkpoint settings may
            differ; the interrupted fit's seed is reused whatever ``random_state``). Finished
            phases are restored, the interrupted one continues from its last checkpoint, and on
            CPU the result is identical to an uninterrupted fit's. Later checkpoints go to
            ``checkpoint_dir`` (none when it is None).

        Returns
        -------
        self : MCDCClustering
        """
        with self._unfitted_on_error():
            X = self._validate_X(X, reset=True)
            settings = self._settings(X)
            seed = self._start_checkpoints(X, resume_from)
            with self._seeded(seed):
                module, critic = _build_networks(
                    X.shape[1],
                    **{key: settings[key] for key in _ARCHITECTURE},
                    variational=self.variational,
                )
                if settings["image_shape"] is None:
                    set_input_statistics(module, X)
                self.encoder_ = module.encoder
                phase_kwargs = self._phase_kwargs(X, settings, critic)
                if settings["graph"] and self.epochs == "auto":
                    # Small graphs have few batches an epoch: give them a floor of steps.
                    steps = edge_batches_per_epoch(
                        phase_kwargs["dataset__graph"], settings["batch_size"]
                    )
                    settings["epochs"] = with_min_graph_steps(
                        settings["epochs"], steps, scale=_MIXING_STEPS_SCALE
                    )
                snapshots, settings["epochs"] = self._heads_epochs(
                    settings["epochs"],
                    settings["consistency_head"]
                    and settings["graph"]
                    and self.epochs == "auto"
                    and self.clustering_loss is None,
                )
                kept = f", keeping the weights of epoch {snapshots[0]}" if snapshots else ""
                self._progress(f"mixing training for {settings['epochs']} epochs{kept}")
                net = self._train(
                    MixingNet(
                        module,
                        **self._net_kwargs(
                            phase="mixing training",
                            seed=seed,
                            max_epochs=settings["epochs"],
                            lr=settings["lr"],
                            batch_size=settings["batch_size"],
                        ),
                        **phase_kwargs,
                        snapshot_epochs=snapshots,
                    ),
                    X,
                    seed=seed,
                )
                self.pretrain_history_ = net.history
                self.n_iter_ = len(net.history)
                if self.clustering_loss == "idec":
                    net = self._idec_fine_tuning(X, net, settings, phase_kwargs, seed + 1)
                    self.n_iter_ += len(net.history)
                graph = phase_kwargs.get("dataset__graph")
                if settings["graph"]:
                    # Drop the graph so that it is not pickled with the estimator (skorch's
                    # set_params refuses dataset__ parameters on an initialised net).
                    net.dataset__graph = None
                self.net_ = net
                self.module_ = module.eval()
                self.critic_ = critic.eval()
                self.image_shape_ = settings["image_shape"]

                whiten = not settings["graph"] if self.whiten == "auto" else self.whiten
                self.head_ = self.head_objectives_ = self.head_pretrain_epoch_ = None
                if snapshots:
                    # The heads choose the epoch the model ends at. The last epoch is the last
                    # candidate, so its weights and whitening stay in place; an earlier
                    # epoch's are loaded back.
                    last = len(net.history)
                    weights = {**getattr(net, "snapshots_", {}), last: net.snapshot()}
                    self.head_, W = self._most_consistent_heads(
                        {
                            epoch: partial(self._whitened_codes_at, net, w, X, whiten)
                            for epoch, w in weights.items()
                        },
                        graph,
                        seed=seed + 2,
                    )
                    if self.head_pretrain_epoch_ != last:
                        W = self._whitened_codes_at(
                            net, weights[self.head_pretrain_epoch_], X, whiten
                        )
                else:
                    W = self._whitened_codes_at(net, None, X, whiten)
                kmeans = self._kmeans(W, self.n_clusters, n_init=self.kmeans_n_init, seed=seed)
                self.cluster_centers_ = kmeans.cluster_centers_.astype(np.float32)
                labels = kmeans.labels_
                if settings["consistency_head"]:
                    if graph is None:
                        graph = self._neighbor_graph(X, settings["image_shape"])
                    if self.head_ is None:
                        self.head_ = self._fit_consistency_head(W, graph, seed=seed + 2)
                    labels = self._head_probabilities(W).argmax(1)
                    # Chosen by "auto", collapsed heads give way to KMeans, which keeps every
                    # cluster; asked for explicitly, they stay (with the warning).
                    fallback = "KMeans's assignments (head='auto')" if self.head == "auto" else ""
                    if self._heads_leave_clusters_empty(labels, fallback=fallback) and fallback:
                        self.head_ = self.head_objectives_ = None
                        labels = kmeans.labels_
                self.labels_ = labels.astype(np.int64)
        return self

    def _settings(self, X) -> dict:
        """Check the parameters against the data and resolve the profile's defaults."""
        n_samples = X.shape[0]
        if n_samples < 2:
            raise ValueError(
                f"n_samples={n_samples}: MCDC mixes the codes of different samples, so it "
                "needs at least 2 samples."
            )
        profile = _PROFILES[self.profile]
        image_shape = self._resolve_image_shape(X, self._input_image_shape)
        kind, latent_dim = self._architecture(X, image_shape, profile)
        graph = (profile["pretrain"] if self.pretrain == "auto" else self.pretrain) == "graph"
        consistency_head = self.head == "consistency" or (
            self.head == "auto" and self._auto_heads(image_shape)
        )
        if (graph or consistency_head) and self.n_neighbors >= n_samples:
            raise ValueError(
                f"n_neighbors={self.n_neighbors} must be < n_samples={n_samples} for "
                "pretrain='graph' or the consistency head."
            )
        if graph or consistency_head:
            self._graph_features(image_shape)
        epochs = self.epochs
        if epochs == "auto":
            epochs = profile.get("epochs") or _auto_epochs(n_samples, graph)
        return dict(
            profile=profile,
            image_shape=image_shape,
            kind=kind,
            graph=graph,
            consistency_head=consistency_head,
            latent_dim=latent_dim,
            hidden_dims=tuple(self.hidden_dims or profile["hidden_dims"]),
            depth=self.depth or profile["depth"],
            epochs=epochs,
            lr=self.lr or profile["lr"],
            # With graph batches, batch_size heads of each batch of edges enter the mixing.
            batch_size=profile["graph_batch_size"] if graph else min(self.batch_size, n_samples),
            mixing_batch_size=min(self.batch_size, n_samples) if graph else None,
            augment=(
                ImageAugmenter(image_shape)
                if self.augmentation and image_shape is not None and self.profile != "paper"
                else None
            ),
        )

    def _phase_kwargs(self, X, settings: dict, critic) -> dict:
        """Net arguments shared by the mixing training and the IDEC fine-tuning."""
        data = dict(dataset=BatchDataset, iterator_train=batch_loader)
        if settings["graph"]:
            data = dict(
                dataset=EdgeDataset,
                dataset__graph=self._neighbor_graph(X, settings["image_shape"]),
                iterator_train=edge_loader,
            )
        return dict(
            critic=critic,
            lambda_adv=self.lambda_adv,
            gamma=self.gamma,
            mixing_weight=self.mixing_weight,
            graph_weight=self.graph_weight,
            variational=self.variational,
            kl_weight=_KL_WEIGHT,
            curve=umap_curve_parameters(),
            mixing_batch_size=settings["mixing_batch_size"],
            augment=settings["augment"],
            **data,
        )

    def _train(self, net, X, *, seed: int):
        self._train_phase(net, X, seed=seed)
        return net

    def _idec_fine_tuning(self, X, net, settings: dict, phase_kwargs: dict, seed: int):
        """MCDC+IDEC: Student-t centres from KMeans on the codes, then the KL term added."""
        kmeans = self._kmeans(self._encode(X), self.n_clusters, n_init=_IDEC_N_INIT, seed=seed)
        epochs = self.finetune_epochs
        if epochs == "auto":
            epochs = max(1, settings["epochs"] // 4)
        self._progress(f"IDEC fine-tuning for at most {epochs} epochs")
        batches_per_epoch = math.ceil(len(net.get_dataset(X)) / settings["batch_size"])
        return self._train(
            IDECNet(
                net.module_,
                **self._net_kwargs(
                    phase="IDEC fine-tuning",
                    seed=seed,
                    max_epochs=epochs,
                    lr=settings["lr"],
                    batch_size=settings["batch_size"],
                ),
                **phase_kwargs,
                assignment=StudentTAssignment(torch.as_tensor(kmeans.cluster_centers_)),
                clustering_weight=self.clustering_weight,
                # IDEC's ratio: 140 batches of 256 on 70,000 samples, about half an epoch.
                update_interval=max(1, batches_per_epoch // 2),
                tol=_IDEC_TOL,
            ),
            X,
            seed=seed,
        )

    def _architecture(self, X, image_shape, profile: dict) -> tuple[str | Autoencoder, int]:
        """The autoencoder to build, or a checked copy of the user's, and its latent size."""
        if is_custom_autoencoder(self.autoencoder):
            if self.variational:
                raise ValueError(
                    "variational=True puts a Gaussian posterior head on a built-in encoder: use "
                    "it with autoencoder='auto', 'mlp' or 'conv', not with your own modules."
                )
            return self._copy_user_autoencoder(X)
        kind = self.autoencoder
        if kind == "auto":
            kind = "conv" if image_shape is not None and self.profile == "paper" else "mlp"
        if kind == "conv" and image_shape is None:
            raise ValueError(
                "autoencoder='conv' needs images: pass image_shape=(channels, height, width), "
                "4-D input, or non-negative data with a square number of features."
            )
        return kind, self._latent_dim(kind, image_shape, profile)

    def _latent_dim(self, kind: str, image_shape, profile: dict) -> int:
        if self.latent_dim is not None:
            return self.latent_dim
        if kind == "mlp":
            return profile["mlp_latent_dim"]
        area = (working_side(max(image_shape[1:])) // 8) ** 2
        # At most a quarter of the input's size, the paper's 256 codes for 32x32 MNIST: 16
        # channels on the 2x2 map of 8x8 digits would be no bottleneck at all.
        channels = min(profile["latent_channels"], math.prod(image_shape) // (4 * area))
        return max(channels, 1) * area

    # ---- latent space ------------------------------------------------------------------------
    def _whitened_codes_at(self, net, weights, X, whiten: bool) -> np.ndarray:
        """The whitened codes of ``X`` with ``weights`` (None: the current ones) loaded into
        ``net``; the whitening statistics are fitted on them."""
        if weights is not None:
            net.load_snapshot(weights)
        Z = self._encode(X)
        self.latent_mean_, self.latent_components_, self.latent_scale_ = pca_whitening(
            Z, whiten=whiten
        )
        return self._whitened(Z)

    def _whitened(self, Z: np.ndarray) -> np.ndarray:
        white = (Z - self.latent_mean_) @ self.latent_components_.T / self.latent_scale_
        return white.astype(np.float32)

    def _unwhitened(self, W: np.ndarray) -> np.ndarray:
        Z = (W * self.latent_scale_) @ self.latent_components_ + self.latent_mean_
        return Z.astype(np.float32)

    def _decode(self, Z: np.ndarray) -> np.ndarray:
        self.module_.eval()
        return self._map_batches(self.module_.decoder, np.ascontiguousarray(Z, np.float32))

    def _clustering_codes(self, X) -> np.ndarray:
        """Validate and encode ``X``; return its codes in the space KMeans clustered."""
        return self._whitened(self._encode(self._validate_X(X, reset=False)))

    def _squared_distances(self, W: np.ndarray) -> np.ndarray:
        return ((W[:, None, :] - self.cluster_centers_[None]) ** 2).sum(-1)

    def _head_probabilities(self, W: np.ndarray) -> np.ndarray:
        return self._map_batches(partial(_probabilities, self.head_), W)

    # ---- inference ---------------------------------------------------------------------------
    def predict(self, X) -> np.ndarray:
        """Nearest cluster centre of each sample in the whitened latent space.

        With the consistency heads (``head_`` not None): their most likely cluster instead.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or (n_samples, C, H, W)

        Returns
        -------
        ndarray of shape (n_samples,), int64
        """
        # The Student-t kernel decreases with the distance: its argmax is the nearest centre.
        return self.predict_proba(X).argmax(1).astype(np.int64)

    def predict_proba(self, X) -> np.ndarray:
        """Student-t soft assignments ``q_ij ∝ (1 + |w_i - c_j|^2)^-1`` of the whitened codes.

        ``w_i`` is the whitened code of sample ``i`` and ``c_j`` the centre of cluster ``j``
        (the DEC / IDEC kernel); rows sum to 1 and their argmax is :meth:`predict`. With the
        consistency heads (``head_`` not None): their averaged softmax instead.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or (n_samples, C, H, W)

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
        """
        check_is_fitted(self)
        W = self._clustering_codes(X)
        if self.head_ is not None:
            return self._head_probabilities(W)
        kernel = 1.0 / (1.0 + self._squared_distances(W))
        return kernel / kernel.sum(1, keepdims=True)

    def inverse_transform(self, X) -> np.ndarray:
        """Decode latent codes (the output of :meth:`transform`) to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=np.float32)
        if Z.shape[1] != self.latent_mean_.shape[0]:
            raise ValueError(
                f"X has {Z.shape[1]} features; inverse_transform expects codes of "
                f"latent_dim={self.latent_mean_.shape[0]}."
            )
        return self._decode(Z)

    def prototypes(self) -> np.ndarray:
        """The cluster centres decoded to the input space.

        Returns
        -------
        ndarray of shape (n_clusters, n_features)
        """
        check_is_fitted(self)
        return self._decode(self._unwhitened(self.cluster_centers_))

    def interpolate(self, x_a, x_b, n_steps: int = 8) -> np.ndarray:
        """Decode the linear interpolation between the codes of ``x_a`` and ``x_b``.

        The paper's Fig. 4: with a mixing consistent latent space, the path from one sample to
        another stays on realistic data and changes class abruptly.

        Parameters
        ----------
        x_a, x_b : array-like of shape (n_features,) or (n_pairs, n_features)
            End points (samples in the input space).
        n_steps : int, default=8
            Points along each path, end points included.

        Returns
        -------
        ndarray of shape (n_steps, n_features) or (n_pairs, n_steps, n_features)
            Decoded points from ``x_a`` (step 0) to ``x_b`` (last step).
        """
        check_is_fitted(self)
        if not isinstance(n_steps, Integral) or n_steps < 2:
            raise ValueError(f"n_steps must be an integer >= 2, got {n_steps!r}.")
        single = np.ndim(x_a) == 1 and np.ndim(x_b) == 1
        z_a, z_b = (self.transform(np.atleast_2d(x) if np.ndim(x) == 1 else x) for x in (x_a, x_b))
        if z_a.shape != z_b.shape:
            raise ValueError(f"x_a and x_b hold {len(z_a)} and {len(z_b)} samples.")
        t = np.linspace(0.0, 1.0, n_steps, dtype=np.float32)[None, :, None]
        path = (1 - t) * z_a[:, None, :] + t * z_b[:, None, :]
        decoded = self._decode(path.reshape(-1, z_a.shape[1]))
        decoded = decoded.reshape(len(z_a), n_steps, -1)
        return decoded[0] if single else decoded

    def score(self, X, y=None) -> float:
        """Negative fraction of the variance of the codes that the clusters leave unexplained.

        In the space KMeans clustered (the whitened, or centred, codes, whose origin is the
        mean of the training codes) the score is ``-sum_i min_j |w_i - c_j|^2 / sum_i
        |w_i|^2``: 0 for points on their centres, about -1 when the centres explain nothing.
        It is the normalised KMeans objective of the paper's evaluation; being a ratio it does
        not depend on the scale of the codes, so it compares ``mixing_weight``, ``lambda_adv``
        and architectures (on sklearn's digits it ranked models in the order of their
        accuracy, where the reconstruction error did not). Higher is better, like
        :meth:`sklearn.cluster.KMeans.score`. Like every internal criterion it rewards compact
        clusters in the model's own latent space: with labels, prefer
        :data:`skdeepclust.metrics.accuracy_scorer`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or (n_samples, C, H, W)
        y : Ignored

        Returns
        -------
        float
        """
        check_is_fitted(self)
        W = self._clustering_codes(X)
        within = self._squared_distances(W).min(1).sum(dtype=np.float64)
        total = np.square(W).sum(dtype=np.float64)
        return -float(within / total) if total > 0 else -1.0
