"""The neighbour-consistency heads of DMAE and MCDC (and DMAE's distilled heads)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from skorch.callbacks import Callback

from skdeepclust import DMAEClustering, MCDCClustering
from skdeepclust.augmentation import ImageAugmenter
from skdeepclust.metrics import unsupervised_accuracy
from skdeepclust.neighbors import neighbor_graph
from skdeepclust.nn.heads import ConsensusHead, ConsistencyHead, match_clusters, merge_clusters
from skdeepclust.training.losses import consistency_objective, neighbor_consistency_loss


@pytest.fixture(scope="module")
def moons():
    return make_moons(400, noise=0.05, random_state=0)


@pytest.fixture(scope="module")
def fitted(moons):
    X, _ = moons
    est = DMAEClustering(
        n_clusters=2, autoencoder=None, epochs=1, head="consistency", head_restarts=2
    )
    return est.set_params(random_state=0).fit(X)


def test_loss_rewards_agreement_and_balance():
    agree = torch.tensor([[0.99, 0.01], [0.01, 0.99]])
    consistency_agree, entropy_agree = neighbor_consistency_loss(agree, agree, balance_weight=5)
    consistency_split, _ = neighbor_consistency_loss(agree, agree.flip(1), balance_weight=5)
    assert consistency_agree < 0.05 < consistency_split
    # Both ends in one cluster: the mean assignment is far from uniform.
    one = torch.tensor([[0.99, 0.01], [0.99, 0.01]])
    _, entropy_one = neighbor_consistency_loss(one, one, balance_weight=5)
    assert entropy_agree == pytest.approx(-np.log(2), abs=1e-6)
    assert entropy_one > entropy_agree + 0.5


def test_objective_is_the_weighted_edge_loss_plus_balance():
    rng = np.random.default_rng(0)
    P = torch.softmax(torch.as_tensor(rng.normal(size=(6, 3))), 1)
    graph = sp.coo_matrix(([1.0, 3.0, 2.0], ([0, 1, 4], [1, 2, 5])), shape=(6, 6))
    edge_losses = -np.log([float(P[i] @ P[j]) for i, j in zip(graph.row, graph.col)])
    m = P.mean(0).numpy()
    expected = np.average(edge_losses, weights=graph.data) + 5 * float((m * np.log(m)).sum())
    assert consistency_objective(P, graph, balance_weight=5) == pytest.approx(expected)


def test_head_follows_the_moons_better_than_the_mixture(moons, fitted):
    # The mixture's nearest-centre cells are convex and cut both moons (0.76 measured); the
    # head, trained on the neighbour graph, follows them (0.89 measured).
    X, y = moons
    mixture_only = DMAEClustering(n_clusters=2, autoencoder=None, epochs=1, random_state=0)
    mixture_accuracy = unsupervised_accuracy(y, mixture_only.fit(X).labels_)
    assert unsupervised_accuracy(y, fitted.labels_) > mixture_accuracy + 0.08


def _head_objective(head, X, graph, balance=5):
    with torch.no_grad():
        P = torch.softmax(head(torch.as_tensor(X, dtype=torch.float32)), 1)
    return consistency_objective(P, graph, balance_weight=balance)


def test_head_gives_the_predictions_led_by_the_best_restart(moons, fitted):
    X, _ = moons
    assert isinstance(fitted.module_.head, ConsensusHead)
    P = fitted.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    assert fitted.head_objectives_.shape == (2,)
    Xv = fitted._validate_X(X, reset=False)
    graph = fitted._neighbor_graph(Xv, fitted._resolve_image_shape(Xv))
    first, second = fitted.module_.head.heads
    assert _head_objective(first, X, graph) == pytest.approx(fitted.head_objectives_.min())
    assert _head_objective(second, X, graph) == pytest.approx(fitted.head_objectives_.max())


def test_match_clusters_undoes_a_relabelling():
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 4, size=200)
    relabelled = np.array([2, 0, 3, 1])[reference]
    index = match_clusters(relabelled, reference, 4)
    np.testing.assert_array_equal(index, [2, 0, 3, 1])
    # Cluster 3 of the reference is never used: it is still matched, to the cluster left.
    np.testing.assert_array_equal(match_clusters(np.minimum(reference, 2), reference % 3, 4)[3], 3)


def test_consensus_averages_heads_matched_to_the_first():
    torch.manual_seed(0)
    first = ConsistencyHead(5, 3)
    permuted = ConsistencyHead(5, 3)
    permuted.load_state_dict(first.state_dict())
    with torch.no_grad():  # the same head with its output clusters in another order
        order = torch.tensor([2, 0, 1])
        permuted.net[-1].weight.copy_(first.net[-1].weight[order])
        permuted.net[-1].bias.copy_(first.net[-1].bias[order])
    other = ConsistencyHead(5, 3)
    consensus = ConsensusHead([first, permuted, other])
    H = torch.randn(300, 5)
    with torch.no_grad():
        consensus.match_([head(H).argmax(1).numpy() for head in consensus.heads])
        P = [torch.softmax(head(H), 1) for head in (first, permuted, other)]
        mean = (P[0] + P[1][:, consensus.index[1]] + P[2][:, consensus.index[2]]) / 3
        torch.testing.assert_close(torch.softmax(consensus(H), 1), mean)
        torch.testing.assert_close(P[1][:, consensus.index[1]], P[0])


def test_merge_clusters_pairs_the_halves_of_each_blob():
    X, y = make_blobs(600, centers=3, cluster_std=0.5, random_state=0)
    graph = neighbor_graph(X, 10)
    # Each blob cut in two along its first coordinate: clusters 2 y and 2 y + 1.
    halves = np.zeros(len(y), dtype=np.int64)
    for k in range(3):
        members = y == k
        halves[members] = 2 * k + (X[members, 0] > np.median(X[members, 0]))
    order = np.random.default_rng(0).permutation(6)  # the halves in a scrambled order
    P = np.eye(6)[order[halves]]
    groups = merge_clusters(P, graph, 3)
    np.testing.assert_array_equal(groups[order[0::2]], groups[order[1::2]])
    assert sorted(np.bincount(groups)) == [2, 2, 2]
    assert groups[order[0]] != groups[order[2]] != groups[order[4]] != groups[order[0]]


def test_merge_clusters_merges_beyond_pairs_when_the_groups_need_it():
    # 5 clusters into 2 groups: at most 3 per group, the most connected first.
    W = sp.csr_matrix(np.kron(np.eye(2), np.ones((6, 6))))
    P = np.eye(5)[[0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4]]
    np.testing.assert_array_equal(merge_clusters(P, W, 2), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(merge_clusters(P, W, 5), np.arange(5))
    # Three cliques, each split in two, into 2 groups: after the three pairs no two groups fit
    # in 3 clusters, so the two most connected pairs merge beyond the cap.
    W = sp.csr_matrix(np.kron(np.eye(3), np.ones((4, 4))) + 0.01)
    W[0:4, 4:8] = W[4:8, 0:4] = 0.1
    P = np.eye(6)[[0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]]
    np.testing.assert_array_equal(merge_clusters(P, W, 2), [0, 0, 0, 0, 1, 1])


def test_consensus_sums_the_probabilities_of_each_group():
    torch.manual_seed(0)
    heads = [ConsistencyHead(5, 4), ConsistencyHead(5, 4)]
    consensus = ConsensusHead(heads)
    H = torch.randn(50, 5)
    with torch.no_grad():
        ungrouped = torch.softmax(consensus(H), 1)
        consensus.group_(np.array([1, 0, 1, 0]))
        grouped = torch.softmax(consensus(H), 1)
    assert consensus.n_groups == 2 and grouped.shape == (50, 2)
    torch.testing.assert_close(grouped[:, 0], ungrouped[:, [1, 3]].sum(1))
    torch.testing.assert_close(grouped[:, 1], ungrouped[:, [0, 2]].sum(1))


@pytest.fixture(scope="module")
def blobs3():
    return make_blobs(300, centers=3, cluster_std=0.6, random_state=1)


@pytest.mark.parametrize("cls", [DMAEClustering, MCDCClustering])
def test_overclustered_heads_are_paired_into_n_clusters(blobs3, cls, tmp_path):
    X, y = blobs3
    params = dict(n_clusters=3, head="consistency", head_restarts=2, random_state=0)
    if cls is DMAEClustering:
        est = cls(autoencoder=None, epochs=1, **params)
    else:
        est = cls(autoencoder="mlp", epochs=1, latent_dim=2, **params)
    est.set_params(head_overclustering=2).fit(X)
    head = est.module_.head if cls is DMAEClustering else est.head_
    assert all(h.n_clusters == 6 for h in head.heads)
    assert sorted(np.bincount(head.groups.numpy())) == [2, 2, 2]
    P = est.predict_proba(X)
    assert P.shape == (300, 3)
    np.testing.assert_allclose(P.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(est.labels_, P.argmax(1))
    # A pair of halves of two blobs would cost a third of the samples.
    assert unsupervised_accuracy(y, est.labels_) > 0.99
    est.save(tmp_path / "model.skdc")
    np.testing.assert_array_equal(cls.load(tmp_path / "model.skdc").predict_proba(X), P)


@pytest.mark.parametrize("name", ["fitted", "fitted_mcdc"])
def test_head_is_deterministic_and_saved(moons, name, request, tmp_path):
    X, _ = moons
    fitted = request.getfixturevalue(name)
    cls = type(fitted)
    again = cls(**fitted.get_params()).fit(X)
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    fitted.save(tmp_path / "model.skdc")
    loaded = cls.load(tmp_path / "model.skdc")
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(loaded.head_objectives_, fitted.head_objectives_)


def test_score_measures_the_mixture_not_the_head(moons, fitted):
    # The head's cluster k is not the mixture's component k: scoring the head's labels against
    # the mixture's prototypes would mix them up.
    X, _ = moons
    Xt = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        labels = fitted.module_.mixture(fitted.encoder_(Xt))[0].argmax(1).numpy()
    errors = ((X - fitted.prototypes()[labels]) ** 2).mean(1)
    assert fitted.score(X) == pytest.approx(-errors.mean(), rel=1e-5)


@pytest.mark.parametrize("name", ["fitted", "fitted_mcdc"])
def test_head_balance_weighs_the_balance_term(moons, name, request):
    X, _ = moons
    fitted = request.getfixturevalue(name)
    est = clone(fitted).set_params(head_balance=1.0).fit(X)
    heads = est.module_.head.heads if name == "fitted" else est.head_.heads
    codes = X if name == "fitted" else est._whitened(est.transform(X))
    Xv = est._validate_X(X, reset=False)
    graph = est._neighbor_graph(Xv, est._resolve_image_shape(Xv))
    objective = est.head_objectives_.min()
    assert _head_objective(heads[0], codes, graph, balance=1) == pytest.approx(objective)
    assert _head_objective(heads[0], codes, graph, balance=5) != pytest.approx(objective)
    # Without the balance term nothing stops the heads from agreeing on a single cluster. How
    # far this short training gets depends on the arithmetic: MCDC's heads put 386 of the 400
    # moons in one cluster in float32 (a CPU without AVX-512), all 400 in bfloat16.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        collapsed = clone(fitted).set_params(head_balance=0.0).fit(X)
    assert len(np.unique(fitted.labels_)) == 2
    sizes = np.bincount(collapsed.labels_, minlength=2)
    assert sizes.min() <= 0.05 * len(X)
    if sizes.min() == 0:
        assert any("to 1 of n_clusters=2 clusters" in str(w.message) for w in caught)


def test_mixture_head_has_no_objectives(moons):
    X, _ = moons
    est = DMAEClustering(n_clusters=2, autoencoder=None, epochs=1, random_state=0).fit(X)
    assert est.module_.head is None and est.head_objectives_ is None


def test_head_needs_fewer_neighbours_than_samples():
    X = np.random.default_rng(0).normal(size=(10, 2))
    est = DMAEClustering(n_clusters=2, autoencoder=None, head="consistency", n_neighbors=10)
    with pytest.raises(ValueError, match="n_neighbors=10 must be < n_samples=10"):
        est.fit(X)


@pytest.fixture(scope="module")
def fitted_mcdc(moons):
    X, _ = moons
    est = MCDCClustering(n_clusters=2, epochs=1, head="consistency", head_restarts=2)
    return est.set_params(random_state=0).fit(X)


def test_mcdc_head_gives_the_predictions(moons, fitted_mcdc):
    X, _ = moons
    est = fitted_mcdc
    assert isinstance(est.head_, ConsensusHead)
    W = est._whitened(est.transform(X))
    with torch.no_grad():
        expected = torch.softmax(est.head_(torch.as_tensor(W)), 1).numpy()
    P = est.predict_proba(X)
    np.testing.assert_allclose(P, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    np.testing.assert_array_equal(est.labels_, expected.argmax(1))
    Xv = est._validate_X(X, reset=False)
    graph = est._neighbor_graph(Xv, est._resolve_image_shape(Xv))
    assert est.head_objectives_.shape == (2,)
    assert _head_objective(est.head_.heads[0], W, graph) == pytest.approx(
        est.head_objectives_.min()
    )


def test_mcdc_score_measures_the_kmeans_centres_not_the_head(moons, fitted_mcdc):
    X, _ = moons
    W = fitted_mcdc._whitened(fitted_mcdc.transform(X))
    within = fitted_mcdc._squared_distances(W).min(1).sum()
    assert fitted_mcdc.score(X) == pytest.approx(-within / np.square(W).sum(), rel=1e-5)


def test_mcdc_kmeans_head_is_saved_without_a_head(moons, tmp_path):
    X, _ = moons
    est = MCDCClustering(n_clusters=2, epochs=1, random_state=0).fit(X)
    assert est.head_ is None and est.head_objectives_ is None
    est.save(tmp_path / "model.skdc")
    loaded = MCDCClustering.load(tmp_path / "model.skdc")
    assert loaded.head_ is None
    np.testing.assert_array_equal(loaded.predict(X), est.labels_)


def test_mcdc_head_needs_fewer_neighbours_than_samples():
    X = np.random.default_rng(0).normal(size=(10, 2))
    est = MCDCClustering(n_clusters=2, pretrain="autoencoder", head="consistency")
    with pytest.raises(ValueError, match="n_neighbors=15 must be < n_samples=10"):
        est.fit(X)


def _digits(n_samples: int, side: int) -> np.ndarray:
    """The first digits / 16 as flat images of ``side`` x ``side`` pixels (8 or 16)."""
    images = load_digits().images[:n_samples] / 16
    zoom = np.ones((side // 8, side // 8))
    return np.stack([np.kron(image, zoom) for image in images]).reshape(n_samples, -1)


@pytest.fixture(scope="module")
def digits100():
    return _digits(100, side=16)


# "auto" trains the heads on images of 16 pixels a side or more in the default profile; the
# 8 x 8 digits keep the estimators' own assignments.
AUTO_HEAD_CASES = dict(
    argnames="params, side, trains_heads",
    argvalues=[
        ({}, 16, True),
        ({}, 8, False),
        ({"image_shape": None}, 16, False),
        ({"profile": "paper"}, 16, False),
    ],
    ids=["images", "8px-images", "tabular", "paper-profile"],
)


@pytest.mark.parametrize(**AUTO_HEAD_CASES)
def test_mcdc_auto_head_trains_heads_on_images_in_the_default_profile(params, side, trains_heads):
    X = _digits(100, side)
    est = MCDCClustering(
        n_clusters=3, epochs=1, head_restarts=1, n_neighbors=5, random_state=0, **params
    ).fit(X)
    assert (est.head_ is not None) == trains_heads
    W = est._whitened(est.transform(X))
    nearest_centre = est._squared_distances(W).argmin(1)
    if trains_heads:
        np.testing.assert_array_equal(est.labels_, est._head_probabilities(W).argmax(1))
    else:
        np.testing.assert_array_equal(est.labels_, nearest_centre)


def test_mcdc_auto_head_falls_back_to_kmeans_when_the_heads_collapse(digits100):
    X = digits100
    est = MCDCClustering(
        n_clusters=3, epochs=1, head_restarts=1, n_neighbors=5, head_balance=0.0, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="Falling back to KMeans's assignments"):
        est.fit(X)
    assert est.head_ is None and est.head_objectives_ is None
    W = est._whitened(est.transform(X))
    np.testing.assert_array_equal(est.labels_, est._squared_distances(W).argmin(1))
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    assert len(np.unique(est.labels_)) == 3


DMAE_DIGITS = dict(
    n_clusters=3,
    hidden_dims=(16,),
    latent_dim=3,
    pretrain_epochs=3,
    epochs=1,
    n_neighbors=5,
    head_restarts=1,
    random_state=0,
)


@pytest.mark.parametrize(**AUTO_HEAD_CASES)
def test_dmae_auto_head_distils_the_heads_on_images_in_the_default_profile(
    params, side, trains_heads
):
    X, distils = _digits(100, side), trains_heads
    est = DMAEClustering(**DMAE_DIGITS, **params).fit(X)
    assert (est.distillation_history_ is not None) == distils
    assert est.module_.head is None  # the mixture assigns, with or without distillation
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    mixture = clone(est).set_params(head="mixture").fit(X)
    if not distils:
        np.testing.assert_array_equal(est.labels_, mixture.labels_)
        return
    assert "distillation_loss" in est.distillation_history_[-1]
    # The distilled heads are trained on the codes before the mixture's fine-tuning: the same
    # fit with the heads' own assignments and no fine-tuning trains the same heads, and its
    # labels are their partition. The distilled mixture carries that partition, which the
    # mixture before distillation did not.
    heads = clone(est).set_params(head="consistency", epochs=0).fit(X)
    np.testing.assert_array_equal(heads.head_objectives_, est.head_objectives_)
    finetuned = clone(est).set_params(head="consistency").fit(X)
    assert not np.array_equal(finetuned.head_objectives_, est.head_objectives_)
    distilled_agreement = adjusted_rand_score(heads.labels_, est.labels_)
    assert distilled_agreement > 0.9
    assert distilled_agreement > adjusted_rand_score(heads.labels_, mixture.labels_) + 0.1


def test_dmae_distillation_keeps_the_mixture_when_the_heads_collapse(digits100):
    X = digits100
    est = DMAEClustering(**DMAE_DIGITS, head="distilled", head_balance=0.0)
    with pytest.warns(ConvergenceWarning, match="Falling back to the mixture's assignments"):
        est.fit(X)
    assert est.distillation_history_ is None and est.module_.head is None
    mixture = clone(est).set_params(head="mixture").fit(X)
    np.testing.assert_array_equal(est.labels_, mixture.labels_)


def test_dmae_distilled_heads_learn_from_the_more_consistent_pretraining_epoch(
    digits100, monkeypatch, tmp_path
):
    # Small budgets so that the automatic one (40 epochs here) is shorter than the distilled
    # heads' minimum: the heads then learn from the codes of epochs 40 and 42.
    monkeypatch.setattr("skdeepclust.training.data.MIN_GRAPH_STEPS", 30)
    monkeypatch.setattr("skdeepclust._base._HEADS_MIN_EPOCHS", 42)
    params = dict(DMAE_DIGITS, head="distilled", head_restarts=3, pretrain_epochs="auto")
    est = DMAEClustering(**params).fit(digits100)
    assert len(est.pretrain_history_) == 42
    # Each candidate's heads are those of a fit pretrained for exactly its epochs (the same
    # random streams up to there), which has one candidate only.
    single = {
        epochs: DMAEClustering(**dict(params, pretrain_epochs=epochs)).fit(digits100)
        for epochs in (40, 42)
    }
    medians = {epochs: np.median(fit.head_objectives_) for epochs, fit in single.items()}
    assert medians[40] != medians[42]
    best = min(medians, key=medians.get)
    assert est.head_pretrain_epoch_ == best
    assert {fit.head_pretrain_epoch_ for fit in single.values()} == {40, 42}
    np.testing.assert_array_equal(est.head_objectives_, single[best].head_objectives_)
    est.save(tmp_path / "model.skdc")
    assert DMAEClustering.load(tmp_path / "model.skdc").head_pretrain_epoch_ == best


class CountHeadBatches(Callback):
    def __init__(self):
        self.batches = 0

    def on_batch_end(self, net, **kwargs):
        self.batches += net.phase.startswith("consistency head")


def test_dmae_head_zoom_keeps_the_heads_partition_under_zooms(digits100):
    # The heads also learn from zoomed copies joined to their images and the images'
    # neighbours, in as many batches: their partition then changes less when the images are
    # zoomed (measured: 0.89 of the images keep their cluster, against 0.84 without the copies).
    X = digits100
    zoom = ImageAugmenter((1, 16, 16), max_rotation=0.0, max_shift=0.0, max_scale=0.2)
    X_zoomed = zoom(torch.as_tensor(X, dtype=torch.float32), torch.Generator().manual_seed(7))
    stability, batches = {}, {}
    for head_zoom in (0.0, 0.2):
        counter = CountHeadBatches()
        est = DMAEClustering(
            **DMAE_DIGITS, head="consistency", head_zoom=head_zoom, callbacks=[counter]
        ).fit(X)
        stability[head_zoom] = np.mean(est.predict(X_zoomed.double().numpy()) == est.labels_)
        batches[head_zoom] = counter.batches
    assert stability[0.2] > stability[0.0] + 0.03
    assert batches[0.2] == batches[0.0]


def test_dmae_head_zoom_gives_every_pretraining_epoch_its_own_copies(digits100, monkeypatch):
    # As in the test above, the heads learn from the codes of epochs 40 and 42; each epoch's
    # copies must come from that epoch's encoder, as in a fit pretrained for exactly its epochs.
    monkeypatch.setattr("skdeepclust.training.data.MIN_GRAPH_STEPS", 30)
    monkeypatch.setattr("skdeepclust._base._HEADS_MIN_EPOCHS", 42)
    candidates = []
    choose = DMAEClustering._most_consistent_heads

    def recording(est, codes, graph, *, seed):
        codes = {e: c() for e, c in codes.items()}
        candidates.append(codes)
        return choose(est, codes, graph, seed=seed)

    monkeypatch.setattr(DMAEClustering, "_most_consistent_heads", recording)
    params = dict(DMAE_DIGITS, head="distilled", pretrain_epochs="auto", head_zoom=0.2)
    est = DMAEClustering(**params).fit(digits100)
    for epochs in (40, 42):
        DMAEClustering(**dict(params, pretrain_epochs=epochs)).fit(digits100)
    both, (single_40,), (single_42,) = (list(c.values()) for c in candidates)
    assert sorted(candidates[0]) == [40, 42]
    for (H, copies), (H_single, copies_single) in zip(both, (single_40, single_42)):
        assert H.shape == copies.shape == (100, 3) and not np.allclose(H, copies)
        np.testing.assert_array_equal(H, H_single)
        np.testing.assert_array_equal(copies, copies_single)
    plain = DMAEClustering(**dict(params, head_zoom=0.0)).fit(digits100)
    assert not np.array_equal(plain.head_objectives_, est.head_objectives_)


@pytest.mark.parametrize(**AUTO_HEAD_CASES)
def test_dmae_auto_head_zoom_gives_copies_where_auto_trains_heads(
    params, side, trains_heads, capsys
):
    # "auto" zooms the copies by up to 0.2 where head="auto" would train heads, and makes none
    # elsewhere; the heads' objectives tell the two apart (the copies change them, see above).
    # The progress output says when the heads learn from copies.
    X = _digits(100, side)
    params = dict(DMAE_DIGITS, head="consistency", **params)
    auto = DMAEClustering(**params, verbose=1).fit(X)
    assert ("with the augmented copies" in capsys.readouterr().out) == trains_heads
    same = DMAEClustering(**params, head_zoom=0.2 if trains_heads else 0.0).fit(X)
    np.testing.assert_array_equal(auto.head_objectives_, same.head_objectives_)


@pytest.mark.parametrize("head", ["consistency", "distilled"])
def test_dmae_head_zoom_needs_images(head):
    X = np.random.default_rng(0).random((60, 5))
    est = DMAEClustering(**dict(DMAE_DIGITS, head=head, head_zoom=0.2))
    with pytest.raises(ValueError, match=r"head_zoom=0\.2 needs image inputs"):
        est.fit(X)


def test_dmae_head_zoom_is_ignored_without_heads(digits100):
    params = dict(DMAE_DIGITS, head="mixture")
    zoomed = DMAEClustering(**params, head_zoom=0.2).fit(digits100)
    np.testing.assert_array_equal(zoomed.labels_, DMAEClustering(**params).fit(digits100).labels_)


def test_dmae_head_pretrain_epoch_is_none_without_distilled_heads(digits100):
    est = DMAEClustering(**dict(DMAE_DIGITS, head="consistency")).fit(digits100)
    assert est.head_pretrain_epoch_ is None


def test_mcdc_heads_choose_the_epoch_the_model_ends_at(digits100, monkeypatch, tmp_path):
    # The automatic budget on 100 images is 60 epochs; with a minimum of 62 the heads learn
    # from the weights of epochs 60 and 62, and the model ends at the more consistent epoch.
    monkeypatch.setattr("skdeepclust.training.data.MIN_GRAPH_STEPS", 30)
    monkeypatch.setattr("skdeepclust._base._HEADS_MIN_EPOCHS", 62)
    params = dict(n_clusters=3, head_restarts=3, n_neighbors=5, random_state=0)
    est = MCDCClustering(**params).fit(digits100)
    assert len(est.pretrain_history_) == est.n_iter_ == 62
    # Each candidate is the fit trained for exactly its epochs (the same random streams up to
    # there), which has one candidate only and ends there.
    single = {
        epochs: MCDCClustering(**params, epochs=epochs).fit(digits100) for epochs in (60, 62)
    }
    assert all(fit.head_pretrain_epoch_ is None for fit in single.values())
    medians = {epochs: np.median(fit.head_objectives_) for epochs, fit in single.items()}
    assert medians[60] != medians[62]
    best = min(medians, key=medians.get)
    chosen = single[best]
    assert est.head_pretrain_epoch_ == best
    np.testing.assert_array_equal(est.head_objectives_, chosen.head_objectives_)
    np.testing.assert_array_equal(est.transform(digits100), chosen.transform(digits100))
    np.testing.assert_array_equal(est.cluster_centers_, chosen.cluster_centers_)
    np.testing.assert_array_equal(est.labels_, chosen.labels_)
    np.testing.assert_array_equal(est.predict(digits100), chosen.labels_)
    for name, tensor in est.critic_.state_dict().items():
        torch.testing.assert_close(tensor, chosen.critic_.state_dict()[name], rtol=0, atol=0)
    # The other candidate's model would have given other codes.
    other = single[122 - best]
    assert not np.array_equal(est.transform(digits100), other.transform(digits100))
    est.save(tmp_path / "model.skdc")
    loaded = MCDCClustering.load(tmp_path / "model.skdc")
    assert loaded.head_pretrain_epoch_ == best
    np.testing.assert_array_equal(loaded.predict(digits100), est.labels_)


def test_mcdc_trains_one_set_of_heads_with_idec(digits100, monkeypatch):
    # MCDC+IDEC's heads learn from the codes after the fine-tuning: no earlier epoch to keep.
    monkeypatch.setattr("skdeepclust.training.data.MIN_GRAPH_STEPS", 30)
    monkeypatch.setattr("skdeepclust._base._HEADS_MIN_EPOCHS", 62)
    est = MCDCClustering(
        n_clusters=3,
        head="consistency",
        head_restarts=1,
        n_neighbors=5,
        clustering_loss="idec",
        finetune_epochs=1,
        random_state=0,
    ).fit(digits100)
    assert len(est.pretrain_history_) == 60 and est.head_pretrain_epoch_ is None
