import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from custom_modules import CountingEncoder, custom_pair, weights
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.callbacks import Callback

from skdeepclust import MCDCClustering
from skdeepclust.latent import class_pca_spectrum, pca_whitening
from skdeepclust.metrics import accuracy_scorer
from skdeepclust.neighbors import neighbor_graph
from skdeepclust.nn.autoencoders import build_autoencoder
from skdeepclust.nn.conv import build_mlp_critic
from skdeepclust.training import adversarial
from skdeepclust.training.adversarial import (
    IDECNet,
    MixingNet,
    StudentTAssignment,
    mix_with_reversed,
    target_distribution,
)
from skdeepclust.training.data import BatchDataset, EdgeDataset, batch_loader, edge_loader

# Small and fast: an MLP, few epochs, few KMeans restarts, no graph, KMeans's assignments (the
# tests of the consistency heads, which "auto" trains on images, are in test_consistency_head).
SMALL = dict(
    head="kmeans",
    hidden_dims=(16,),
    latent_dim=4,
    epochs=2,
    batch_size=16,
    kmeans_n_init=2,
    pretrain="autoencoder",
    autoencoder="mlp",
    random_state=0,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:240] / 16).astype(np.float32), y[:240]


def _net(cls=MixingNet, n_features=64, **kwargs):
    torch.manual_seed(0)
    autoencoder = build_autoencoder("mlp", n_features, hidden_dims=(16,), latent_dim=4)
    critic = build_mlp_critic(n_features, hidden_dims=(16,), latent_dim=4)
    settings = dict(
        criterion=torch.nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=32,
        max_epochs=1,
        train_split=None,
        dataset=BatchDataset,
        iterator_train=batch_loader,
        iterator_train__shuffle=True,
        iterator_train__generator=torch.Generator().manual_seed(0),
        verbose=0,
    )
    net = cls(autoencoder, critic=critic, **{**settings, **kwargs})
    return net.initialize()


# ---- the mixing game ----------------------------------------------------------------------------
def test_mixing_with_the_reversed_batch():
    z = torch.arange(6.0).view(3, 2)
    mixed = mix_with_reversed(z, torch.tensor([0.0, 0.5, 0.25]))
    torch.testing.assert_close(mixed, torch.tensor([[0.0, 1.0], [2.0, 3.0], [3.0, 4.0]]))


def test_mixing_coefficients_per_sample_in_zero_half(digits, monkeypatch):
    drawn = []

    def spy(n, *, device=None):
        a = adversarial.MAX_MIX * torch.rand(n, device=device)
        drawn.append(a)
        return a

    monkeypatch.setattr(adversarial, "mixing_coefficients", spy)
    net = _net()
    net.losses(torch.as_tensor(digits[0][:64]), torch.arange(64))
    (a,) = drawn
    assert a.shape == (64,)
    assert 0 <= a.min() and a.max() <= 0.5 and a.std() > 0.05


def test_each_player_gets_gradients_from_its_own_loss_only(digits):
    net = _net()
    terms = net.losses(torch.as_tensor(digits[0][:32]), torch.arange(32))
    terms["critic_loss"].backward(retain_graph=True)
    # The critic learns from detached inputs: no gradient reaches the autoencoder.
    assert all(p.grad is None for p in net.module_.parameters())
    assert all(p.grad is not None for p in net.critic_.parameters())
    net.critic_.zero_grad(set_to_none=True)
    terms["autoencoder_loss"].backward()
    # The adversarial term treats the critic as a constant.
    assert all(p.grad is None for p in net.critic_.parameters())
    assert all(p.grad is not None for p in net.module_.parameters())


def test_one_step_updates_both_players(digits):
    net = _net()
    assert net._optimizers == ["optimizer", "optimizer_critic"]
    before = [p.detach().clone() for p in (*net.module_.parameters(), *net.critic_.parameters())]
    net.partial_fit(digits[0][:32])
    after = [*net.module_.parameters(), *net.critic_.parameters()]
    assert all(not torch.equal(b, a) for b, a in zip(before, after))
    for name in ("reconstruction_loss", "mixing_loss", "adversarial_loss", "critic_loss"):
        assert np.isfinite(net.history[-1, name])


def test_acai_and_mcdc_losses_differ(digits):
    x, index = torch.as_tensor(digits[0][:32]), torch.arange(32)
    torch.manual_seed(1)
    mcdc = _net(mixing_weight=1.0).losses(x, index)
    torch.manual_seed(1)
    acai = _net(mixing_weight=0.0).losses(x, index)
    assert "mixing_loss" in mcdc and "mixing_loss" not in acai
    torch.testing.assert_close(acai["reconstruction_loss"], mcdc["reconstruction_loss"])
    torch.testing.assert_close(
        mcdc["autoencoder_loss"] - acai["autoencoder_loss"], mcdc["mixing_loss"]
    )
    plain = _net(mixing_weight=0.0, lambda_adv=0.0).losses(x, index)
    assert set(plain) == {"reconstruction_loss", "autoencoder_loss", "loss"}


@pytest.mark.parametrize("graph_weight", [0.0, 2.5])
def test_graph_weight_scales_only_the_graph_term(digits, graph_weight):
    kwargs = {**SMALL, "pretrain": "graph", "n_neighbors": 5, "epochs": 1}
    est = MCDCClustering(n_clusters=3, graph_weight=graph_weight, **kwargs).fit(digits[0][:60])
    epoch = est.net_.history[-1]
    others = epoch["reconstruction_loss"] + epoch["mixing_loss"] + 0.5 * epoch["adversarial_loss"]
    np.testing.assert_allclose(
        epoch["autoencoder_loss"], others + graph_weight * epoch["graph_loss"], rtol=1e-5
    )


# ---- IDEC ---------------------------------------------------------------------------------------
def test_target_distribution_sharpens_and_normalises():
    q = torch.tensor([[0.6, 0.4], [0.5, 0.5], [0.2, 0.8]])
    p = target_distribution(q)
    torch.testing.assert_close(p.sum(1), torch.ones(3))
    assert p[0, 0] > q[0, 0] and p[2, 1] > q[2, 1]


class _RecordTargets(IDECNet):
    def _extra_terms(self, z, index, terms):
        codes = self.module_.encoder(torch.as_tensor(self.train_X_[index.numpy()]))
        self.seen_.append((index.clone(), self.target_[index].clone(), z - codes))
        return super()._extra_terms(z, index, terms)


@pytest.mark.parametrize("edges", [False, True])
def test_idec_target_is_looked_up_by_sample_index(digits, edges):
    X = digits[0][:96]
    data = {}
    if edges:
        data = dict(
            dataset=EdgeDataset,
            dataset__graph=neighbor_graph(X, 5),
            iterator_train=edge_loader,
            mixing_batch_size=20,
        )
    # One target update before the first batch only, then shuffled batches.
    net = _net(_RecordTargets, assignment=StudentTAssignment(torch.randn(3, 4)), **data)
    net.set_params(update_interval=1000)
    net.seen_ = []
    full_target = target_distribution(net.soft_assignments(X))
    net.partial_fit(X)
    order = torch.cat([index for index, _, _ in net.seen_])
    assert len(order) > 32 and not torch.equal(order[:32], torch.arange(32))  # shuffled
    for index, p, code_error in net.seen_:
        # Each row's target and code belong to the sample named by its index.
        torch.testing.assert_close(p, full_target[index], atol=1e-5, rtol=1e-4)
        assert code_error.abs().max() < 1e-5
    # With edges, only the first mixing_batch_size heads of a batch enter the losses.
    assert max(len(index) for index, _, _ in net.seen_) == (20 if edges else 32)
    assert net.train_X_ is None  # the training data is not kept with the net


def test_idec_stops_once_labels_are_stable(digits):
    assignment = StudentTAssignment(torch.randn(3, 4))
    net = _net(IDECNet, assignment=assignment, update_interval=1, tol=1.1)
    net.set_params(max_epochs=5)
    net.partial_fit(digits[0][:96])
    assert len(net.history) == 1  # converged at the second update, stopped before epoch 2
    assert net.delta_labels_ and "clustering_loss" in net.history[-1]


# ---- the estimator ------------------------------------------------------------------------------
def _expected_failed_checks(estimator):
    reason = (
        "scikit-learn 1.9 bug: the sparse checks read classifier tags of any estimator with "
        "predict_proba, and a clusterer has none"
    )
    return {
        "check_estimator_sparse_array": reason,
        "check_estimator_sparse_matrix": reason,
    }


@parametrize_with_checks(
    [MCDCClustering(n_clusters=3, **{**SMALL, "epochs": 3})],
    expected_failed_checks=_expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_fit_predict_transform_and_friends(digits):
    X, _ = digits
    est = MCDCClustering(n_clusters=10, **SMALL).fit(X)
    assert est.labels_.dtype == np.int64 and set(est.labels_) == set(range(10))
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    proba = est.predict_proba(X[:20])
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(1), est.labels_[:20])
    Z = est.transform(X)
    assert Z.shape == (240, 4) and est.cluster_centers_.shape == (10, 4)
    # The whitening statistics are those of the training codes.
    np.testing.assert_allclose(
        ((Z - est.latent_mean_) @ est.latent_components_.T / est.latent_scale_).std(0),
        1,
        rtol=1e-3,
    )
    assert est.inverse_transform(Z[:5]).shape == (5, 64)
    assert est.prototypes().shape == (10, 64)
    path = est.interpolate(X[0], X[1], n_steps=5)
    assert path.shape == (5, 64)
    np.testing.assert_allclose(path[0], est.inverse_transform(Z[:1])[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], est.inverse_transform(Z[1:2])[0], atol=1e-5)
    assert est.interpolate(X[:3], X[3:6], n_steps=4).shape == (3, 4, 64)
    with pytest.raises(ValueError, match="latent_dim=4"):
        est.inverse_transform(np.zeros((2, 3)))
    assert est.image_shape_ == (1, 8, 8) and est.net_.history[-1, "epoch"] == 2


def test_image_input_conv_graph_and_augmentation(digits):
    X = digits[0][:120]
    images = X.reshape(-1, 1, 8, 8)
    kwargs = {**SMALL, "autoencoder": "conv", "pretrain": "graph", "n_neighbors": 5, "depth": 2}
    est = MCDCClustering(n_clusters=5, **kwargs).fit(images)
    assert est.image_shape_ == (1, 8, 8)
    assert type(est.encoder_).__name__ == "ConvEncoder"
    assert "graph_loss" in est.net_.history[-1]
    assert est.net_.augment is not None
    np.testing.assert_array_equal(est.predict(images), est.predict(X))
    assert est.net_.dataset__graph is None  # not pickled with the estimator
    # Flat rows of a square number of non-negative features are taken for images too.
    flat = MCDCClustering(n_clusters=5, **kwargs).fit(X)
    np.testing.assert_array_equal(flat.labels_, est.labels_)


@pytest.mark.parametrize(
    ("profile", "encoder"), [("paper", "ConvEncoder"), ("default", "Sequential")]
)
def test_auto_autoencoder_per_profile(digits, profile, encoder):
    settings = {**SMALL, "autoencoder": "auto", "epochs": 1, "depth": 2, "latent_dim": None}
    est = MCDCClustering(n_clusters=3, profile=profile, **settings).fit(digits[0][:64])
    assert type(est.encoder_).__name__ == encoder
    # Default latent sizes: the paper's encoder keeps a quarter of the 64 features (4 channels
    # on its 2x2 map), the default MLP 10 dimensions.
    assert est.cluster_centers_.shape == (3, 16 if profile == "paper" else 10)
    assert (est.net_.augment is None) == (profile == "paper")


def test_variational_and_idec_variants(digits):
    X, _ = digits
    vae = MCDCClustering(n_clusters=5, variational=True, **SMALL).fit(X)
    assert "kl_loss" in vae.net_.history[-1]
    np.testing.assert_array_equal(vae.transform(X[:10]), vae.transform(X[:10]))
    idec = MCDCClustering(n_clusters=5, clustering_loss="idec", finetune_epochs=2, **SMALL).fit(X)
    assert isinstance(idec.net_, IDECNet)
    assert "clustering_loss" in idec.net_.history[-1]
    assert idec.n_iter_ == len(idec.pretrain_history_) + len(idec.net_.history)


def test_sparse_input_is_read_batch_by_batch(digits):
    X, _ = digits
    dense = MCDCClustering(n_clusters=5, image_shape=None, **SMALL).fit(X)
    sparse = MCDCClustering(n_clusters=5, image_shape=None, **SMALL).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(sparse.labels_, dense.labels_)
    np.testing.assert_allclose(sparse.transform(sp.csr_matrix(X)), dense.transform(X), atol=1e-6)


def test_same_seed_same_result_and_input_untouched(digits):
    X, _ = digits
    X64 = X.astype(np.float64)
    copy = X64.copy()
    a = MCDCClustering(n_clusters=5, **SMALL).fit(X64)
    b = MCDCClustering(n_clusters=5, **SMALL).fit(X64)
    np.testing.assert_array_equal(X64, copy)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_pickle_clone_and_pipeline(digits):
    X, _ = digits
    est = MCDCClustering(n_clusters=5, **SMALL).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))
    assert clone(est).get_params() == est.get_params()
    pipe = make_pipeline(MinMaxScaler(), MCDCClustering(n_clusters=5, **SMALL)).fit(X)
    assert pipe.predict(X).shape == (240,)


def test_grid_search_over_mixing_weight(digits):
    X, y = digits
    idx = np.arange(len(X))
    search = GridSearchCV(
        MCDCClustering(n_clusters=10, **SMALL),
        {"mixing_weight": [0.0, 1.0]},
        scoring=accuracy_scorer,
        cv=[(idx, idx)],
    ).fit(X, y)
    assert search.best_params_["mixing_weight"] in (0.0, 1.0)
    assert 0.1 < search.best_score_ <= 1


def test_score_ranks_a_trained_model_above_an_untrained_one(digits):
    X, y = digits
    graph = {**SMALL, "pretrain": "graph", "n_neighbors": 10}
    untrained = MCDCClustering(n_clusters=10, **{**graph, "epochs": 0}).fit(X)
    trained = MCDCClustering(n_clusters=10, **{**graph, "epochs": 15}).fit(X)
    assert accuracy_scorer(trained, X, y) > accuracy_scorer(untrained, X, y) + 0.1
    score = trained.score(X)
    assert -1 < untrained.score(X) < score - 0.03 < 0
    # The score is the unexplained fraction of the variance: scaling the codes changes nothing.
    trained.latent_scale_ = trained.latent_scale_ / 10
    trained.cluster_centers_ = trained.cluster_centers_ * 10
    assert trained.score(X) == pytest.approx(score, rel=1e-4)


def test_clear_errors(digits):
    X, _ = digits
    with pytest.raises(NotFittedError):
        MCDCClustering(**SMALL).predict(X)
    bad = X.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MCDCClustering(**SMALL).fit(bad)
    bad[3, 5] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        MCDCClustering(**SMALL).fit(bad)
    with pytest.raises(ValueError, match="number of features, 64"):
        MCDCClustering(image_shape=(1, 7, 7), **SMALL).fit(X)
    with pytest.raises(ValueError, match="at least 2 samples"):
        MCDCClustering(n_clusters=1, **SMALL).fit(X[:1])
    with pytest.raises(ValueError, match="n_neighbors=15 must be < n_samples=10"):
        MCDCClustering(n_clusters=2, **{**SMALL, "pretrain": "graph"}).fit(X[:10])
    with pytest.raises(ValueError, match="autoencoder='conv' needs images"):
        MCDCClustering(autoencoder="conv", image_shape=None).fit(X)


class _InjectNaN(Callback):
    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if len(net.history) == 2:
            with torch.no_grad():
                next(net.module_.parameters()).fill_(float("nan"))


def test_nan_loss_stops_with_phase_and_epoch(digits):
    X, _ = digits
    est = MCDCClustering(n_clusters=5, callbacks=[_InjectNaN()], **{**SMALL, "epochs": 3})
    with pytest.raises(FloatingPointError, match="mixing training loss became nan at epoch 2"):
        est.fit(X)
    with pytest.raises(NotFittedError):  # no half-fitted state is left behind
        est.predict(X)


# ---- latent-space analysis ----------------------------------------------------------------------
def test_pca_whitening_and_class_spectrum():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(300, 3)) * [5.0, 1.0, 0.2] + 7
    mean, components, scale = pca_whitening(Z)
    white = (Z - mean) @ components.T / scale
    np.testing.assert_allclose(np.cov(white.T, bias=True), np.eye(3), atol=1e-3)
    mean, components, scale = pca_whitening(Z, whiten=False)
    np.testing.assert_array_equal(components, np.eye(3))

    Z, y = make_blobs(200, n_features=4, centers=3, random_state=0)
    spectrum = class_pca_spectrum(Z, y)
    assert spectrum.shape == (3, 4)
    np.testing.assert_allclose(spectrum.sum(1), 1)
    assert np.all(np.diff(spectrum, axis=1) <= 1e-12)
    assert class_pca_spectrum(Z, y, n_components=2).shape == (3, 2)
    with pytest.raises(ValueError, match="at least 2 samples"):
        class_pca_spectrum(Z[:4], [0, 0, 0, 1])


# ---- your own encoder and decoder ---------------------------------------------------------------
@pytest.mark.parametrize("pretrain", ["autoencoder", "graph"])
def test_custom_modules_are_trained_as_copies(digits, pretrain):
    X, _ = digits
    encoder, decoder = custom_pair(64, 3)
    before = weights(encoder, decoder)
    params = {**SMALL, "autoencoder": (encoder, decoder), "pretrain": pretrain, "n_neighbors": 5}
    est = MCDCClustering(n_clusters=5, clustering_loss="idec", finetune_epochs=1, **params)
    est.fit(X)

    assert isinstance(est.encoder_, CountingEncoder) and est.encoder_ is not encoder
    assert est.encoder_.calls > 0 and encoder.calls == 0
    # latent_dim=4 (in SMALL) gives way to the width of the encoder's codes
    assert est.transform(X).shape == (240, 3)
    assert est.inverse_transform(np.zeros((2, 3))).shape == (2, 64)
    # The critic is the MLP one on flat rows, sized by hidden_dims and the codes.
    assert est.critic_(torch.zeros(2, 64)).shape == (2,)
    assert [m.out_features for m in est.critic_.modules() if hasattr(m, "out_features")] == [16, 3]
    trained = weights(est.encoder_, est.module_.decoder)
    for user, initial, fitted in zip((encoder, decoder), before, trained, strict=True):
        for key, value in user.state_dict().items():
            assert torch.equal(value, initial[key])
        assert any(not torch.equal(fitted[key], initial[key]) for key in initial)


def test_custom_modules_clone_search_and_pickle(digits):
    from skdeepclust.nn.autoencoders import Autoencoder

    X, _ = digits
    autoencoder = Autoencoder(*custom_pair(64, 3))
    est = MCDCClustering(n_clusters=5, **{**SMALL, "autoencoder": autoencoder})
    codes = est.fit(X).transform(X)
    # Every fit starts from the weights passed in: refits and clones give the same model.
    np.testing.assert_array_equal(est.fit(X).transform(X), codes)
    np.testing.assert_array_equal(clone(est).fit(X).transform(X), codes)
    everything = np.arange(len(X))
    search = GridSearchCV(est, {"mixing_weight": [0.0, 1.0]}, cv=[(everything, everything)])
    assert isinstance(search.fit(X).best_estimator_.encoder_, CountingEncoder)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))


def test_custom_modules_errors(digits, tmp_path):
    X, _ = digits
    with pytest.raises(ValueError, match="encoder must map"):  # codes without a batch axis
        MCDCClustering(autoencoder=(torch.nn.Flatten(0), torch.nn.Linear(3, 64))).fit(X)
    with pytest.raises(ValueError, match=r"decoder must map .* got shape \(16, 63\)"):
        MCDCClustering(autoencoder=(torch.nn.Linear(64, 3), torch.nn.Linear(3, 63))).fit(X)
    with pytest.raises(ValueError, match="pair"):
        MCDCClustering(autoencoder=(torch.nn.Linear(64, 3), "decoder")).fit(X)
    with pytest.raises(ValueError, match="variational=True"):
        MCDCClustering(autoencoder=custom_pair(64, 3), variational=True).fit(X)
    est = MCDCClustering(n_clusters=5, **{**SMALL, "autoencoder": custom_pair(64, 3)}).fit(X)
    with pytest.raises(ValueError, match="pickle or joblib"):
        est.save(tmp_path / "model.skdc")
