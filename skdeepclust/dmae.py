"""Dissimilarity Mixture Autoencoder (Lara & González) as a scikit-learn clusterer."""

from __future__ import annotations

import copy
import math
from functools import partial
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._base import BaseDeepClustering
from .augmentation import ImageAugmenter
from .dissimilarities import VALID_DISSIMILARITIES, get_dissimilarity
from .initialization import initial_partition
from .neighbors import umap_curve_parameters
from .nn.autoencoders import (
    Autoencoder,
    RandomFourierFeatures,
    build_autoencoder,
    is_custom_autoencoder,
    set_input_statistics,
)
from .nn.heads import ConsensusHead
from .nn.mixture import DissimilarityMixture, precisions_from_partition
from .training.data import (
    BatchDataset,
    EdgeDataset,
    batch_loader,
    edge_batches_per_epoch,
    edge_loader,
    with_min_graph_steps,
)
from .training.nets import DistillationNet, DMMNet, RepresentationNet

__all__ = ["DMAEClustering"]

# What each profile uses for the parameters left at None / "auto". "default" is what measured
# best on 2 CPU cores (neighbour-graph pretraining, see the user guide); "paper" is the method as
# published: plain autoencoder pretraining with SGD, then the paper's loss weights and Adam.
_PROFILES = {
    "default": dict(
        pretrain="graph",
        hidden_dims=(256, 256),
        lambda_r=0.1,
        pretrain_optimizer=(torch.optim.Adam, {}),
        pretrain_lr=2e-3,
        finetune_lr=1e-4,
        pretrain_batch_size=512,
        # The decoder reconstructs a quarter of each edge batch's heads: on digits (3 seeds)
        # the same ACC/NMI as all 512 (0.952/0.925 vs 0.951/0.923) and about 20% less time.
        pretrain_reconstruction_samples=128,
    ),
    "paper": dict(
        pretrain="autoencoder",
        hidden_dims=(500, 500, 2000),
        lambda_r=0.01,
        pretrain_optimizer=(torch.optim.SGD, {"momentum": 0.9}),
        pretrain_lr=1.0,
        finetune_lr=1e-5,
        pretrain_batch_size=256,
        pretrain_reconstruction_samples=None,
    ),
}

# ``head_zoom="auto"`` on images: the heads' copies are zoomed by up to 20%. On Fashion-MNIST
# (seeds 0-4 and 9, float32) it raised the NMI on every seed, by 0.001 to 0.046.
_HEAD_ZOOM = 0.2

# Distilling the consistency heads' partition into the mixture (``head="distilled"``), as probed
# on Fashion-MNIST (3 seeds): Adam 3e-4 on batches of 256 samples; one epoch (274 steps)
# reproduced the heads' ACC / NMI as well as five did. Small data get at least 300 steps.
_DISTILLATION_LR = 3e-4
_DISTILLATION_BATCH_SIZE = 256
_DISTILLATION_MIN_STEPS = 300

# ``latent_dim=None``: the random-Fourier-feature pretraining regresses the codes onto
# ``latent_dim`` random features of an RBF kernel, as many as the paper's 100. On the DMAE
# authors' two circles (5 seeds, the automatic kernel width) 10 gave 0.757 median ACC, 100 gave
# 1.000.
_LATENT_DIM = 10
_RFF_LATENT_DIM = 100


class DMAEModule(nn.Module):
    """An autoencoder whose latent space is modelled by a dissimilarity mixture.

    An optional ``head`` (``head="consistency"``) replaces the mixture's assignments; with
    ``head="distilled"`` the heads are only there until their partition has been distilled.
    """

    def __init__(
        self,
        autoencoder: Autoencoder,
        mixture: DissimilarityMixture,
        head: ConsensusHead | None = None,
    ):
        super().__init__()
        self.autoencoder = autoencoder
        self.mixture = mixture
        self.head = head

    def forward(self, x):
        """Soft assignments (the head's when there is one, else the mixture's) and codes."""
        h = self.autoencoder.encoder(x)
        if self.head is None:
            return self.mixture(h)[0], h
        return torch.softmax(self.head(h), 1), h


def _auto_pretrain_epochs(
    n_samples: int, pretrain: str, steps_per_epoch: int | None = None
) -> int:
    """Epoch budget from the data size: more passes on small data, fewer on large data.

    For graph pretraining, ``steps_per_epoch`` (batches of edges in an epoch), when given, sets
    a floor of :data:`~skdeepclust.training.data.MIN_GRAPH_STEPS` optimisation steps.
    """
    if pretrain == "graph":
        # An epoch samples as many edges as the graph has (about 1.4 * n_neighbors * n): 32
        # epochs on 1,797 digits, 5 on 70,000 images. Digits, seed 0, 2 CPU cores: 21 epochs
        # gave NMI 0.920 in 18 s, 30 gave 0.928 in 26 s, 40 gave 0.932 in 33 s.
        epochs = int(np.clip(round(30 * math.sqrt(2000 / n_samples)), 4, 40))
        if steps_per_epoch:
            epochs = with_min_graph_steps(epochs, steps_per_epoch)
        return epochs
    # About 250,000 samples seen: 139 epochs on 1,797 digits, 10 (the floor) on 70,000 images
    # (the paper: 500 epochs of MNIST on a GPU). On digits with SGD at lr 1.0, 28 epochs left
    # the autoencoder predicting the mean image (KMeans on its codes: 0.47 ACC); 150 reached 0.77.
    return int(np.clip(round(250_000 / n_samples), 10, 500))


class DMAEClustering(BaseDeepClustering):
    """Dissimilarity Mixture Autoencoder clustering.

    A mixture model whose components are defined by a dissimilarity ``V(h, theta_k)`` is fitted
    on the latent space of an autoencoder (or on the raw features: the shallow DMAE). Soft
    assignments are ``S = softmax(-alpha * D + log pi)`` with ``D[i, k] = V(h_i, theta_k)``; the
    decoder reconstructs from the soft-assigned centre ``mu~ = S @ mu`` and the loss is
    ``lambda_r * MSE(x, decoder(mu~)) + lambda_c * mean_i[V(h_i, theta~_i) - log(pi~_i) / alpha]``.

    Deep training has three steps: (1) pretrain the autoencoder, (2) initialise the mixture on
    the latent codes (KMeans, or k-medoids for non-euclidean dissimilarities), (3) fine-tune
    everything. With ``profile="default"`` step 1 trains the encoder to preserve the
    k-nearest-neighbour graph of the inputs (a UMAP-style loss plus reconstruction, with small
    random rotations and shifts for images), which measured far better on 2 CPU cores than plain
    autoencoder pretraining; ``profile="paper"`` is the published method. On images the default
    ``head="auto"`` (beyond the paper) adds two steps: (4) train consistency heads on the codes
    over the neighbour graph, which can split groups that the mixture merges, and (5) distil
    their partition into the mixture, which then assigns the clusters (see ``head``).

    Parameters
    ----------
    n_clusters : int, default=8
        Number of mixture components.
    dissimilarity : str or callable, default="euclidean"
        One of :data:`skdeepclust.dissimilarities.VALID_DISSIMILARITIES` ("chebyshev",
        "correlation", "cosine", "euclidean", "kullback_leibler", "mahalanobis", "manhattan",
        "minkowski", "sqeuclidean", "toroidal_euclidean"), or ``V(H, centers) -> [B, K]`` on
        torch tensors.
    dissimilarity_params : dict, default=None
        Parameters of the dissimilarity, e.g. ``{"p": 3}`` for "minkowski".
    alpha : float, default=1000.0
        Inverse temperature of the soft assignments: large values give hard assignments. The
        paper used 1e4 on real data; accuracy changes little over [1, 1e4].
    autoencoder : {"mlp", "conv"}, tuple (encoder, decoder), Autoencoder or None, default="mlp"
        "mlp": fully connected; "conv": ACAI's convolutional autoencoder (images only);
        ``None`` fits the shallow DMAE on the raw features. Your own networks: a pair of
        ``torch.nn.Module`` (or a :class:`skdeepclust.nn.autoencoders.Autoencoder`) whose
        encoder maps float32 rows ``[B, n_features]`` to codes ``[B, latent_dim]`` and whose
        decoder maps codes back to ``[B, n_features]``. ``fit`` trains a deep copy, so the
        modules you pass keep their weights and every fit starts from them.
    hidden_dims : tuple of int, default=None
        Hidden layer widths of the MLP encoder. None: (256, 256) in the default profile,
        (500, 500, 2000) (DEC's) in the paper profile. Unused with your own modules.
    latent_dim : int, default=None
        Size of the latent space. None: 10, or 100 with ``pretrain="rff"``, the paper's number
        of random features (10 approximate the kernel too coarsely: 0.757 median ACC on two
        circles against 1.000). With your own modules it is the width of the encoder's output,
        and this parameter is unused.
    profile : {"default", "paper"}, default="default"
        Which settings fill the parameters left at None or "auto" (see Notes).
    pretrain : {"auto", "graph", "autoencoder", "rff", "none"}, default="auto"
        Pretraining of the autoencoder: ``"graph"`` (neighbour-graph embedding plus
        reconstruction), ``"autoencoder"`` (reconstruction only), ``"rff"`` (the paper's kernel
        initialisation for non-globular data: the encoder learns to output ``latent_dim``
        random Fourier features of an RBF kernel, the decoder learns their inverse; it needs a
        kernel width that separates the groups, see the user guide) or ``"none"``.
    rff_gamma : float, default=None
        RBF kernel width of ``pretrain="rff"``; None: ``1 / (n_features * X.var())``.
    pretrain_epochs : int or "auto", default="auto"
        Pretraining epochs; "auto" picks a budget from the number of samples. For "graph" an
        epoch samples as many edges as the neighbour graph has, and "auto" gives
        ``30 * sqrt(2000 / n_samples)`` epochs (4 to 40) but at least 2,250 batches of edges,
        so that small graphs get as many optimisation steps as sklearn's digits (32 epochs).
        With ``head="distilled"`` (the default on images of 16 pixels a side or more) "auto"
        pretrains at least 10 epochs; when the budget above is shorter, the heads learn from
        the codes of both its last epoch and epoch 10, and the heads with the lower median
        objective are kept (``head_pretrain_epoch_``). On Fashion-MNIST (5 seeds) this raised
        the heads' median ACC / NMI from 0.656 / 0.632 to 0.680 / 0.649, for about 3 minutes
        more a fit (10 minutes instead of 7 on 2 CPU cores).
    epochs : int or "auto", default="auto"
        Fine-tuning epochs (step 3); 0 gives the pretrained encoder plus the initial mixture.
        "auto": after graph pretraining an eighth of its automatic budget (at least 2), else a
        budget from the number of samples.
    batch_size : int, default=256
        Fine-tuning batch size (pretraining uses the profile's).
    lr : float, default=None
        Fine-tuning learning rate of Adam. None: the profile's (1e-4 default, 1e-5 paper).
    lambda_r : float, default=None
        Weight of the reconstruction term. None: the profile's (0.1 default, 0.01 paper).
    lambda_c : float, default=1.0
        Weight of the clustering (mixture) term.
    init : {"auto", "kmeans", "kmedoids", "random"} or ndarray, default="auto"
        Initial centres: "auto" uses KMeans for euclidean-like dissimilarities and k-medoids for
        the others; an array of shape (n_clusters, latent_dim) is used as is.
    n_neighbors : int, default=15
        Size of the neighbourhoods of the graph pretraining (and of the consistency head).
    graph_features : {"auto", "input", "hog"}, default="auto"
        What the neighbour graph's neighbours are searched on (the networks always train on
        the inputs). "input": the rows of ``X``. "hog", beyond the papers, for images of at
        least 8 x 8 pixels: histograms of oriented gradients (9 orientations, cells of 4 x 4
        pixels, blocks of 2 x 2 cells normalised to unit length) next to the pixels
        (:func:`skdeepclust.features.graph_features`); it needs about 3 times the memory of
        ``X`` for 28 x 28 images. "auto": "hog" for images with sides of at least 16 pixels,
        else "input" (so the 8 x 8 digits, where the histograms found fewer same-class
        neighbours than the pixels, keep their pixel graph). On Fashion-MNIST (3 seeds) "hog"
        raised the graph's 15-NN class purity and DMAE's median ACC / NMI from 0.641 / 0.612
        to 0.644 / 0.629 for about 2 minutes more of neighbour search, with a narrower spread
        over seeds (NMI 0.626-0.632 against 0.595-0.649); see the user guide.
    head : {"auto", "mixture", "consistency", "distilled"}, default="auto"
        What assigns the clusters. "mixture": the DMM (the paper). "consistency", beyond the paper:
        after step 3, MLP heads (codes -> 256 -> 256 -> ``n_clusters``) are trained on the fixed
        codes with SCAN's loss over the input's ``n_neighbors`` graph (neighbours agree, plus a
        balance term weighted by ``head_balance``), and their averaged probabilities give
        ``predict_proba``, ``predict`` and ``labels_``. They can split groups the mixture merges:
        on Fashion-MNIST (3 seeds) the median ACC / NMI rose from 0.587 / 0.625 to 0.698 / 0.644
        for about 90 s more. "distilled": the heads are trained as with "consistency", but on the
        codes before step 3 (the fine-tuning pulls the codes towards the mixture's clusters,
        merging what the heads would split); after step 3 the mixture's components are put at
        the mean codes of the heads' clusters and the encoder and the mixture are trained (Adam
        3e-4, at least 300 batches of 256) to give each sample the heads' cluster; the heads
        are then dropped, so ``predict_proba``, the centres and ``score`` all describe the
        mixture, which carries the heads' partition. "auto":
        "distilled" for images of at least 16 pixels a side (an image shape given or inferred)
        in the default profile, "mixture" otherwise. The balance term assumes clusters of
        similar sizes: on breast cancer (212 and 357 samples) the heads' ACC was 0.865 against
        the mixture's 0.946. On the 8 x 8 digits (5 seeds) the heads changed the median ACC /
        NMI by at most 0.005 and took 40% of the fit (see the user guide). When the heads leave a
        cluster empty, "distilled" keeps the mixture's assignments (with a
        ``ConvergenceWarning``).
    head_restarts : int, default=5
        Heads trained from different random weights with ``head="consistency"`` or
        ``"distilled"``. Their clusters are matched to those of the head with the lowest
        label-free objective (``head_objectives_``), and their probabilities averaged.
    head_balance : float, default=5.0
        Weight of the consistency head's balance term (the negative entropy of the mean
        assignment), which keeps the heads from putting everything in one cluster and pulls the
        clusters towards equal sizes. Lower it for clusters of unequal sizes: at 1 the heads kept
        breast cancer's 212 / 357 split (median ACC 0.940 against 0.865 at 5; the mixture 0.946)
        and followed two moons better (0.980 against 0.961), but split less of what the mixture
        merges on Fashion-MNIST (0.676 / 0.632 against 0.698 / 0.644). Below about 0.5 the heads
        can put every sample in one cluster (0.3 did on breast cancer, 3 seeds); ``fit`` warns
        (``ConvergenceWarning``) when the heads leave a cluster empty.
    head_overclustering : int, default=1
        Each head has ``head_overclustering * n_clusters`` clusters, which are then merged
        into ``n_clusters`` groups of about ``head_overclustering`` along the neighbour graph,
        the merge that raises the graph's modularity most first (see
        :func:`skdeepclust.nn.heads.merge_clusters`): a class that the heads cut in two gets
        its halves back, while the extra clusters keep apart what ``n_clusters`` heads might
        merge. With 2 the defaults' median ACC / NMI on Fashion-MNIST (3 seeds, a 2-core AMD
        EPYC) was 0.653 / 0.618, against 0.641 / 0.612 at 1. One seed lost 0.015 ACC. On a
        small two-moons fit (shallow, ``head="consistency"``) the pairs gave 0.63 ACC, against
        0.89 at 1. So 1 stays the default (see the user guide).
    head_zoom : "auto" or float in [0, 1), default="auto"
        With a positive value the heads also learn from the codes of one copy of each image
        zoomed by a random factor in [1 - head_zoom, 1 + head_zoom], each copy joined to its
        image and to the image's neighbours (:func:`skdeepclust.neighbors.with_copies`), in as
        many batches as without the copies. A cut by the items' size then costs edges that a
        cut by their kind does not. Needs image inputs; ignored with ``head="mixture"``.
        "auto": 0.2 where ``head="auto"`` trains heads (images of at least 16 pixels a side,
        default profile), else 0. On six Fashion-MNIST seeds 0.2 raised the NMI on every seed,
        by 0.001 to 0.046, for 2-3% more time (see the user guide).
    image_shape : "auto", tuple (channels, height, width) or None, default="auto"
        Shape of image inputs, which enables augmentation. "auto" infers (1, s, s) from
        non-negative dense data with s * s features, s >= 8; None treats the data as tabular.
    augmentation : bool, default=True
        Train on small random rotations and shifts of image inputs (needs an image shape).
    scale_guard : bool, default=True
        Penalise changes of the latent scale during fine-tuning, so that the encoder cannot
        make the mixture loss vanish by shrinking every code.
    n_init : int, default=10
        Restarts of the initialisation (KMeans or k-medoids).
    device : str or torch.device, default="cpu"
        "cpu", "cuda", "cuda:1", ... or "auto".
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of the networks during training. "bfloat16" runs their forward and backward
        passes under :func:`torch.autocast` (parameters, optimiser states, distances and losses
        stay float32); "auto" picks it where the device multiplies bfloat16 natively (CPUs with
        AVX512-BF16 or AMX, recent GPUs; measured 1.9-2.1x the float32 training throughput on 2
        AMD EPYC cores) and float32 elsewhere. Inference always runs in float32.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, sampling, augmentation and initialisation; an int gives identical
        results across fits on CPU.
    verbose : int, default=0
        1 prints the phases, each with one progress bar over all its batches; 2 also
        skorch's per-epoch table.
    callbacks : list of skorch callbacks, default=None
        Added to every training phase (e.g. ``skorch.callbacks.EarlyStopping``).
    checkpoint_dir : str, path-like or None, default=None
        Directory where each training phase (pretraining, fine-tuning, heads, distillation)
        saves a checkpoint every ``checkpoint_every`` epochs and when it ends, so that an
        interrupted fit can be resumed with ``fit(X, resume_from=checkpoint_dir)``. A fit
        without ``resume_from`` deletes the checkpoints already in the directory.
    checkpoint_every : int, default=1
        Epochs between two checkpoints of a phase.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    cluster_centers_ : ndarray of shape (n_clusters, latent_dim)
        Centres of the mixture components in the latent space (the input space when shallow).
    mixing_weights_ : ndarray of shape (n_clusters,)
        Mixing weights ``pi`` (they sum to 1).
    precisions_ : ndarray of shape (n_clusters, latent_dim, latent_dim) or None
        Learned precision matrices (only for "mahalanobis").
    module_ : DMAEModule
        The trained torch module (``module_.autoencoder``, ``module_.mixture``).
    encoder_ : torch.nn.Module
        The encoder (identity when shallow).
    net_ : skorch.NeuralNet
        The fine-tuning net; its ``history`` records every loss term per epoch.
    pretrain_history_ : skorch.History or None
        History of the pretraining phase.
    head_objectives_ : ndarray of shape (head_restarts,) or None
        When ``fit`` trained consistency heads: the objective of each restart (lower is
        better). With ``head="consistency"`` the heads are ``module_.head`` (a
        :class:`~skdeepclust.nn.heads.ConsensusHead`), and ``cluster_centers_``,
        ``mixing_weights_`` and ``precisions_`` still describe the mixture, whose components
        need not match the heads' clusters. When the heads were distilled, ``module_.head`` is
        None, and these are the objectives of the heads whose partition was distilled.
    head_pretrain_epoch_ : int or None
        With ``head="distilled"``: the pretraining epoch whose codes the distilled heads
        learned from (see ``pretrain_epochs``); None otherwise.
    distillation_history_ : skorch.History or None
        History of the distillation phase (``head="distilled"``, or "auto" on images).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    See Also
    --------
    MCDCClustering : Mixing consistent deep clustering.
    sklearn.mixture.GaussianMixture : The shallow DMM with "mahalanobis" is close to it.

    Notes
    -----
    Profiles fill the parameters left at None / "auto": "default" uses graph pretraining, an
    MLP (256, 256), Adam 2e-3 (pretraining) / 1e-4 (fine-tuning), ``lambda_r=0.1`` and keeps the
    graph loss during fine-tuning; "paper" uses plain autoencoder pretraining with SGD (lr 1.0,
    momentum 0.9, about 250,000 samples seen), DEC's (500, 500, 2000) MLP, ``lambda_r=0.01``,
    Adam 1e-5.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepclust import DMAEClustering
    >>> X, y = make_blobs(200, centers=3, random_state=0)
    >>> est = DMAEClustering(n_clusters=3, autoencoder=None, random_state=0).fit(X)
    >>> est.predict_proba(X[:2]).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        **BaseDeepClustering._parameter_constraints,
        "dissimilarity": [StrOptions(set(VALID_DISSIMILARITIES)), callable],
        "dissimilarity_params": [dict, None],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "autoencoder": [StrOptions({"mlp", "conv"}), Autoencoder, tuple, None],
        "hidden_dims": [tuple, list, None],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), None],
        "profile": [StrOptions({"default", "paper"})],
        "pretrain": [StrOptions({"auto", "graph", "autoencoder", "rff", "none"})],
        "rff_gamma": [Interval(Real, 0, None, closed="neither"), None],
        "pretrain_epochs": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "epochs": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither"), None],
        "lambda_r": [Interval(Real, 0, None, closed="left"), None],
        "lambda_c": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions({"auto", "kmeans", "kmedoids", "random"}), "array-like"],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "graph_features": [StrOptions({"auto", "input", "hog"})],
        "head": [StrOptions({"auto", "mixture", "consistency", "distilled"})],
        "head_restarts": [Interval(Integral, 1, None, closed="left")],
        "head_balance": [Interval(Real, 0, None, closed="left")],
        "head_overclustering": [Interval(Integral, 1, None, closed="left")],
        "head_zoom": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="left")],
        "image_shape": [StrOptions({"auto"}), tuple, list, None],
        "augmentation": ["boolean"],
        "scale_guard": ["boolean"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        dissimilarity="euclidean",
        dissimilarity_params=None,
        alpha=1000.0,
        autoencoder="mlp",
        hidden_dims=None,
        latent_dim=None,
        profile="default",
        pretrain="auto",
        rff_gamma=None,
        pretrain_epochs="auto",
        epochs="auto",
        batch_size=256,
        lr=None,
        lambda_r=None,
        lambda_c=1.0,
        init="auto",
        n_neighbors=15,
        graph_features="auto",
        head="auto",
        head_restarts=5,
        head_balance=5.0,
        head_overclustering=1,
        head_zoom="auto",
        image_shape="auto",
        augmentation=True,
        scale_guard=True,
        n_init=10,
        device="cpu",
        precision="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        checkpoint_dir=None,
        checkpoint_every=1,
    ):
        self.n_clusters = n_clusters
        self.dissimilarity = dissimilarity
        self.dissimilarity_params = dissimilarity_params
        self.alpha = alpha
        self.autoencoder = autoencoder
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.profile = profile
        self.pretrain = pretrain
        self.rff_gamma = rff_gamma
        self.pretrain_epochs = pretrain_epochs
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lambda_r = lambda_r
        self.lambda_c = lambda_c
        self.init = init
        self.n_neighbors = n_neighbors
        self.graph_features = graph_features
        self.head = head
        self.head_restarts = head_restarts
        self.head_balance = head_balance
        self.head_overclustering = head_overclustering
        self.head_zoom = head_zoom
        self.image_shape = image_shape
        self.augmentation = augmentation
        self.scale_guard = scale_guard
        self.n_init = n_init
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every

    # ---- fit ---------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, resume_from=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float64 input is trained in float32. Sparse matrices and memmaps are
            read one batch at a time (a float64 memmap is not copied).
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
        self : DMAEClustering
        """
        with self._unfitted_on_error():
            X = self._validate_X(X, reset=True)
            n_samples = X.shape[0]
            profile = _PROFILES[self.profile]
            V = get_dissimilarity(self.dissimilarity, self.dissimilarity_params)
            deep = self.autoencoder is not None
            pretrain = self._resolved_pretrain()
            image_shape = self._resolve_image_shape(X)
            head = self._resolve_head(deep, image_shape)
            if (pretrain == "graph" or head != "mixture") and self.n_neighbors >= n_samples:
                raise ValueError(
                    f"n_neighbors={self.n_neighbors} must be < n_samples={n_samples} for "
                    f"pretrain='graph' or head={head!r}."
                )
            if pretrain == "graph" or head != "mixture":
                self._graph_features(image_shape)
            zoom = self._head_zoom_augmenter(head, image_shape)
            augment = ImageAugmenter(image_shape) if (self.augmentation and image_shape) else None
            seed = self._start_checkpoints(X, resume_from)
            rng = np.random.RandomState(seed)
            device = self._torch_device()

            with self._seeded(seed):
                autoencoder, latent_dim = self._build_autoencoder(X, image_shape)
                mixture = DissimilarityMixture(self.n_clusters, latent_dim, V, float(self.alpha))
                module = DMAEModule(autoencoder, mixture).to(device)

                graph = self._neighbor_graph(X, image_shape) if pretrain == "graph" else None
                curve = umap_curve_parameters()
                dataset = BatchDataset(X) if graph is None else EdgeDataset(X, graph=graph)
                pretrain_batch_size = min(profile["pretrain_batch_size"], n_samples)
                auto_epochs = _auto_pretrain_epochs(
                    n_samples,
                    pretrain,
                    None if graph is None else edge_batches_per_epoch(graph, pretrain_batch_size),
                )
                self.pretrain_history_ = None
                # The codes the distilled heads may learn from, by pretraining epoch.
                candidates = {}
                if pretrain != "none":
                    epochs = (
                        auto_epochs if self.pretrain_epochs == "auto" else self.pretrain_epochs
                    )
                    snapshots, epochs = self._heads_epochs(
                        epochs,
                        head == "distilled"
                        and pretrain == "graph"
                        and self.pretrain_epochs == "auto",
                    )
                    kept = f", keeping the codes of epoch {snapshots[0]}" if snapshots else ""
                    self._progress(f"pretraining ({pretrain}) for {epochs} epochs{kept}")
                    optimizer, optimizer_kwargs = profile["pretrain_optimizer"]
                    net = RepresentationNet(
                        autoencoder,
                        **self._net_kwargs(
                            phase="pretraining",
                            seed=seed,
                            max_epochs=epochs,
                            lr=profile["pretrain_lr"],
                            batch_size=pretrain_batch_size,
                        ),
                        iterator_train=batch_loader if graph is None else edge_loader,
                        augment=augment,
                        curve=curve,
                        reconstruction_weight=self._lambda_r() if pretrain == "graph" else 1.0,
                        reconstruction_samples=(
                            None if graph is None else profile["pretrain_reconstruction_samples"]
                        ),
                        feature_map=(
                            self._feature_map(X, latent_dim) if pretrain == "rff" else None
                        ),
                        snapshot_epochs=snapshots,
                    )
                    net.set_params(
                        optimizer=optimizer,
                        **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
                    )
                    self._train_phase(net, dataset, seed=seed)
                    self.pretrain_history_ = net.history
                    candidates = {
                        e: partial(self._head_codes, X, weights, zoom, seed=seed + 4)
                        for e, weights in getattr(net, "snapshots_", {}).items()
                    }
                self.encoder_ = autoencoder.encoder

                H = self._codes(X)
                candidates[len(self.pretrain_history_ or ())] = partial(
                    self._head_codes, X, None, zoom, seed=seed + 4, codes=H
                )
                self.head_objectives_ = self.distillation_history_ = None
                self.head_pretrain_epoch_ = None
                head_graph = None
                if head != "mixture":
                    head_graph = self._neighbor_graph(X, image_shape) if graph is None else graph
                if head == "distilled":
                    # The heads find their partition on the codes before the mixture's
                    # fine-tuning, which pulls the codes towards the mixture's clusters and so
                    # merges the groups the heads would split. On Fashion-MNIST (one fit, three
                    # heads' seeds) they gave 0.698-0.702 ACC / 0.656-0.658 NMI on these codes,
                    # against 0.601-0.655 / 0.626-0.646 on the fine-tuned ones.
                    heads, codes = self._most_consistent_heads(
                        candidates, head_graph, seed=seed + 2
                    )
                    head_labels = self._map_batches(heads, codes).argmax(1)
                centers, labels = self._initial_partition(H, V, rng)
                precisions = (
                    precisions_from_partition(H, labels, self.n_clusters)
                    if V.name == "mahalanobis"
                    else None
                )
                mixture.initialize_(
                    torch.as_tensor(centers, dtype=torch.float32, device=device),
                    None
                    if precisions is None
                    else torch.as_tensor(precisions, dtype=torch.float32, device=device),
                )
                epochs = self._finetune_epochs(n_samples, pretrain, auto_epochs)
                self._progress(f"fine-tuning the mixture for {epochs} epochs")
                reference_scale = float(np.sqrt(((H - H.mean(0)) ** 2).sum(1).mean())) or 1.0
                self.net_ = DMMNet(
                    module,
                    **self._net_kwargs(
                        phase="fine-tuning",
                        seed=seed + 1,
                        max_epochs=epochs,
                        lr=self.lr or (profile["finetune_lr"] if deep else 1e-3),
                        batch_size=min(self.batch_size if deep else 32, n_samples)
                        if graph is None
                        else pretrain_batch_size,
                    ),
                    iterator_train=batch_loader if graph is None else edge_loader,
                    augment=augment,
                    curve=curve,
                    lambda_r=self._lambda_r(),
                    lambda_c=self.lambda_c,
                    scale_weight=float(self.scale_guard and deep),
                    reference_scale=reference_scale,
                )
                self.net_.initialize()
                if epochs:
                    self._train_phase(self.net_, dataset, seed=seed + 1)
                if head == "consistency":
                    # These heads assign the final codes, so they are trained on them.
                    H, copies = self._head_codes(X, None, zoom, seed=seed + 4)
                    module.head = self._fit_consistency_head(
                        H, head_graph, seed=seed + 2, copies=copies
                    )
                    self._heads_leave_clusters_empty(self._map_batches(module.head, H).argmax(1))
                elif head == "distilled":
                    # An empty cluster has no centre to start its component from: the
                    # mixture's own assignments stay.
                    fallback = "the mixture's assignments"
                    if not self._heads_leave_clusters_empty(head_labels, fallback=fallback):
                        self.distillation_history_ = self._distill(
                            module, X, self._codes(X), head_labels, seed=seed + 3
                        )
            self.module_ = module.eval()
            self._store_mixture()
            self.labels_ = self._assignments(X).argmax(1).astype(np.int64)
            self.n_iter_ = epochs
        return self

    def _resolve_head(self, deep: bool, image_shape) -> str:
        if self.head != "auto":
            return self.head
        return "distilled" if deep and self._auto_heads(image_shape) else "mixture"

    def _distill(self, module: DMAEModule, X, H: np.ndarray, labels: np.ndarray, *, seed: int):
        """Train the encoder and the mixture to reproduce the partition ``labels`` of ``X``.

        The components start at the mean codes of the clusters (and, with mahalanobis, at their
        precisions); returns the phase's history.
        """
        V = module.mixture.dissimilarity
        device = self._torch_device()
        centers = np.stack([H[labels == k].mean(0) for k in range(self.n_clusters)])
        precisions = (
            precisions_from_partition(H, labels, self.n_clusters)
            if V.name == "mahalanobis"
            else None
        )
        module.mixture.initialize_(
            torch.as_tensor(centers, dtype=torch.float32, device=device),
            None
            if precisions is None
            else torch.as_tensor(precisions, dtype=torch.float32, device=device),
        )
        n_samples = X.shape[0]
        batch_size = min(_DISTILLATION_BATCH_SIZE, n_samples)
        epochs = max(1, math.ceil(_DISTILLATION_MIN_STEPS / math.ceil(n_samples / batch_size)))
        self._progress(f"distilling the heads' clusters into the mixture for {epochs} epochs")
        net = DistillationNet(
            module,
            **self._net_kwargs(
                phase="distillation",
                seed=seed,
                max_epochs=epochs,
                lr=_DISTILLATION_LR,
                batch_size=batch_size,
            ),
            iterator_train=batch_loader,
            targets=torch.as_tensor(labels, dtype=torch.int64, device=device),
            lambda_r=self._lambda_r(),
            lambda_c=self.lambda_c,
        )
        self._train_phase(net, BatchDataset(X), seed=seed)
        return net.history

    def _head_zoom_augmenter(self, head: str, image_shape) -> ImageAugmenter | None:
        """The zooms of the copies that the heads learn from (``head_zoom``), or None."""
        zoom = self.head_zoom
        if zoom == "auto":
            zoom = _HEAD_ZOOM if self._auto_heads(image_shape) else 0.0
        if not zoom or head == "mixture":
            return None
        if image_shape is None:
            raise ValueError(
                f"head_zoom={zoom} needs image inputs: pass image_shape=(channels, "
                "height, width), or head_zoom=0 for tabular data."
            )
        return ImageAugmenter(image_shape, max_rotation=0.0, max_shift=0.0, max_scale=zoom)

    def _head_codes(self, X, weights, zoom, *, seed: int, codes=None):
        """The codes the heads learn from: ``(codes, copies)``, the codes of ``X`` and, with a
        ``zoom`` augmenter, those of one zoomed copy of each row (else None).

        ``weights`` are an encoder snapshot (None: the current encoder); ``codes`` the codes of
        ``X`` when already computed.
        """
        encoder = self.encoder_
        if weights is not None:
            encoder = copy.deepcopy(encoder)
            encoder.load_state_dict(weights)
        encoder.eval()
        H = self._map_batches(encoder, X) if codes is None else codes
        if zoom is None:
            return H, None
        # The same copies for every candidate: the zooms are drawn from the same seed.
        generator = torch.Generator().manual_seed(seed)
        return H, self._map_batches(lambda xb: encoder(zoom(xb, generator=generator)), X)

    def _codes(self, X) -> np.ndarray:
        """The latent codes of ``X`` (its rows, as a dense float32 array, when shallow)."""
        if self.autoencoder is not None:
            return self._encode(X)
        return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float32)

    def _resolved_pretrain(self) -> str:
        if self.autoencoder is None:
            return "none"
        return _PROFILES[self.profile]["pretrain"] if self.pretrain == "auto" else self.pretrain

    def _resolved_latent_dim(self) -> int:
        if self.latent_dim is not None:
            return self.latent_dim
        return _RFF_LATENT_DIM if self._resolved_pretrain() == "rff" else _LATENT_DIM

    def _build_autoencoder(self, X, image_shape) -> tuple[Autoencoder, int]:
        """The autoencoder to train and the size of its codes (the raw rows' when shallow)."""
        if is_custom_autoencoder(self.autoencoder):
            return self._copy_user_autoencoder(X)
        hidden_dims = self.hidden_dims or _PROFILES[self.profile]["hidden_dims"]
        latent_dim = self._resolved_latent_dim()
        autoencoder = build_autoencoder(
            self.autoencoder,
            X.shape[1],
            hidden_dims=tuple(hidden_dims),
            latent_dim=latent_dim,
            image_shape=image_shape,
        )
        if image_shape is None:
            # Images keep their pixel scale, which the augmentation and its tuning assume.
            set_input_statistics(autoencoder, X)
        return autoencoder, X.shape[1] if self.autoencoder is None else latent_dim

    def _feature_map(self, X, latent_dim: int) -> RandomFourierFeatures:
        gamma = self.rff_gamma
        if gamma is None:
            variance = float(X.power(2).mean() - X.mean() ** 2) if sp.issparse(X) else X.var()
            gamma = 1.0 / (X.shape[1] * variance) if variance > 0 else 1.0
        return RandomFourierFeatures(X.shape[1], latent_dim, gamma, self._torch_device())

    def _lambda_r(self) -> float:
        return _PROFILES[self.profile]["lambda_r"] if self.lambda_r is None else self.lambda_r

    def _finetune_epochs(self, n_samples: int, pretrain: str, auto_pretrain_epochs: int) -> int:
        if self.epochs != "auto":
            return self.epochs
        if pretrain == "graph":
            # An eighth of the automatic pretraining budget (4 epochs on digits): on digits, 3
            # seeds, 4 epochs gave the same ACC/NMI as 8 (0.951-0.955 / 0.923-0.929) in 2-3 s
            # instead of 5-6 s of the fit.
            return max(2, auto_pretrain_epochs // 8)
        return int(np.clip(round(20_000 / n_samples), 5, 100))

    def _initial_partition(self, H, V, rng):
        if not isinstance(self.init, str):
            centers = np.asarray(self.init, dtype=np.float32)
            if centers.shape != (self.n_clusters, H.shape[1]):
                raise ValueError(
                    f"init has shape {centers.shape}; expected (n_clusters, latent_dim) = "
                    f"{(self.n_clusters, H.shape[1])}."
                )
            with torch.no_grad():
                D = V.pairwise(torch.as_tensor(H), torch.as_tensor(centers))
            return centers, D.argmin(1).numpy()
        method = V.init if self.init == "auto" else self.init
        metric = V.sklearn_metric or V.pairwise
        return initial_partition(
            H, self.n_clusters, method=method, metric=metric, n_init=self.n_init, random_state=rng
        )

    def _store_mixture(self):
        mixture = self.module_.mixture
        with torch.no_grad():
            self.cluster_centers_ = mixture.centers.detach().cpu().numpy().copy()
            self.mixing_weights_ = mixture.mixing_weights().cpu().numpy()
            precisions = mixture.precisions()
            self.precisions_ = None if precisions is None else precisions.cpu().numpy()

    # ---- inference ---------------------------------------------------------------------------
    def _assignments(self, X) -> np.ndarray:
        return self._map_batches(lambda xb: self.module_(xb)[0], X)

    def predict_proba(self, X) -> np.ndarray:
        """Soft assignments ``S = softmax(-alpha * D + log pi)``; rows sum to 1.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
        """
        check_is_fitted(self)
        return self._assignments(self._validate_X(X, reset=False))

    def predict(self, X) -> np.ndarray:
        """Most likely component of each sample (``argmax`` of :meth:`predict_proba`).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), int64
        """
        return self.predict_proba(X).argmax(1).astype(np.int64)

    def prototypes(self) -> np.ndarray:
        """The cluster centres mapped to the input space (decoded when deep).

        Returns
        -------
        ndarray of shape (n_clusters, n_features)
        """
        check_is_fitted(self)
        decoder = self.module_.autoencoder.decoder
        centers = self.module_.mixture.centers.detach()
        if decoder is None:
            return centers.cpu().numpy().copy()
        with torch.no_grad():
            return decoder(centers).cpu().numpy()

    def score(self, X, y=None) -> float:
        """Negative mean squared error between each sample and its cluster's prototype.

        The error is measured in the input space, between ``x`` and the decoded centre of the
        cluster ``x`` is assigned to (:meth:`prototypes`), averaged over samples and features.
        Unlike the training loss it does not depend on the scale of ``alpha`` or of the
        dissimilarity, so ``GridSearchCV`` without ``scoring`` can compare them. Higher is
        better, like :meth:`sklearn.cluster.KMeans.score`. With ``head="consistency"`` it still
        scores the mixture (its assignments and prototypes): the head's clusters have no
        prototypes. With ``head="distilled"`` (the default on images) the mixture's
        assignments are ``predict``'s, so the score describes ``labels_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        float
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        prototypes = torch.as_tensor(self.prototypes(), device=self._torch_device())

        def errors(xb):
            labels = self.module_.mixture(self.encoder_(xb))[0].argmax(1)
            return (xb - prototypes[labels]).pow(2).mean(1)

        return -float(self._map_batches(errors, X).mean())

    def _defines_density(self) -> bool:
        return get_dissimilarity(self.dissimilarity, self.dissimilarity_params).density

    @available_if(_defines_density)
    def score_samples(self, X) -> np.ndarray:
        """Log-density of each sample's code under the mixture.

        Defined where ``exp(-alpha * V)`` is a normalisable density: "sqeuclidean" (an
        isotropic Gaussian mixture with variance ``1 / (2 alpha)``) and "mahalanobis" (a Gaussian
        mixture with precisions ``2 alpha P_k``); other dissimilarities do not have this method.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        mixture = self.module_.mixture
        X = self._validate_X(X, reset=False)
        d = self.cluster_centers_.shape[1]
        log_norm = 0.5 * d * math.log(self.alpha / math.pi)
        precisions = mixture.precisions()
        if precisions is not None:
            log_norm = log_norm + 0.5 * torch.logdet(precisions)

        def log_density(xb):
            h = self.encoder_(xb)
            _, D, log_pi = mixture(h)
            return torch.logsumexp(log_pi - self.alpha * D + log_norm, dim=1)

        return self._map_batches(log_density, X)
