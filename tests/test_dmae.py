"""DMAEClustering: the sklearn contract, the model's behaviour and its errors."""

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
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.callbacks import Callback

from skdeepclust import DMAEClustering
from skdeepclust.datasets import make_blobs8
from skdeepclust.dmae import _auto_pretrain_epochs
from skdeepclust.metrics import accuracy_scorer, unsupervised_accuracy

# head="mixture": these tests are about the mixture's own assignments, which the default
# head="auto" replaces by the distilled heads' on images of 16 pixels a side or more.
SMALL = dict(
    hidden_dims=(16,), latent_dim=3, pretrain_epochs=3, epochs=2, n_neighbors=5, head="mixture"
)


def _expected_failed_checks(estimator):
    reason = (
        "scikit-learn 1.9 reads classifier_tags.multi_class for any estimator with predict_proba "
        "in its sparse-container check, which is None for a clusterer"
    )
    return {"check_estimator_sparse_array": reason, "check_estimator_sparse_matrix": reason}


@parametrize_with_checks(
    [DMAEClustering(n_clusters=3, random_state=0, **SMALL)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(300, centers=3, n_features=5, cluster_std=0.6, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


@pytest.fixture(scope="module")
def fitted(blobs):
    return DMAEClustering(n_clusters=3, random_state=0, **SMALL).fit(blobs[0])


# ---- the model --------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_shallow_minkowski_blobs(p):
    """The paper's synthetic experiment: 8 blobs, shallow DMAE, every Minkowski p."""
    X, y = make_blobs8(800, random_state=0)
    est = DMAEClustering(
        n_clusters=8,
        autoencoder=None,
        dissimilarity="minkowski",
        dissimilarity_params={"p": p},
        alpha=100.0,
        epochs=5,
        random_state=0,
    ).fit(X)
    assert unsupervised_accuracy(y, est.labels_) >= 0.99


def test_deep_digits_beats_chance_by_far(digits):
    X, y = digits
    est = DMAEClustering(n_clusters=10, pretrain_epochs=8, epochs=2, random_state=0).fit(X)
    assert unsupervised_accuracy(y, est.labels_) > 0.8
    assert len(np.unique(est.labels_)) == 10


@pytest.mark.parametrize(
    "dissimilarity", ["euclidean", "sqeuclidean", "manhattan", "chebyshev", "mahalanobis"]
)
def test_dissimilarities_fit_blobs(blobs, dissimilarity):
    X, y = blobs
    est = DMAEClustering(n_clusters=3, dissimilarity=dissimilarity, random_state=0, **SMALL)
    est.fit(X)
    assert unsupervised_accuracy(y, est.labels_) > 0.9
    P = est.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-5)
    assert np.all(np.isfinite(est.cluster_centers_))
    if dissimilarity == "mahalanobis":
        assert est.precisions_.shape == (3, 3, 3)
        assert np.all(np.linalg.eigvalsh(est.precisions_) > 0)
    else:
        assert est.precisions_ is None


@pytest.mark.parametrize("dissimilarity", ["cosine", "correlation"])
def test_shallow_angular_dissimilarities(dissimilarity):
    """Directions, not norms, separate these clusters: what cosine and correlation are for."""
    rng = np.random.RandomState(0)
    directions = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 1.0]])
    y = rng.randint(3, size=300)
    X = directions[y] * rng.uniform(0.5, 5.0, size=(300, 1)) + 0.05 * rng.randn(300, 4)
    est = DMAEClustering(
        n_clusters=3,
        autoencoder=None,
        dissimilarity=dissimilarity,
        alpha=100.0,
        epochs=3,
        random_state=0,
    ).fit(X)
    assert unsupervised_accuracy(y, est.labels_) > 0.95


def test_callable_dissimilarity(blobs):
    def squared(H, C):
        return torch.cdist(H, C).pow(2)

    est = DMAEClustering(n_clusters=3, dissimilarity=squared, random_state=0, **SMALL)
    est.fit(blobs[0])
    assert unsupervised_accuracy(blobs[1], est.labels_) > 0.9


def test_fitted_attributes(fitted, blobs):
    X = blobs[0]
    assert fitted.labels_.shape == (300,)
    assert fitted.cluster_centers_.shape == (3, 3)
    np.testing.assert_allclose(fitted.mixing_weights_.sum(), 1.0, atol=1e-6)
    assert fitted.transform(X).shape == (300, 3)
    assert fitted.transform(X).dtype == np.float32
    assert fitted.prototypes().shape == (3, 5)
    assert "graph_loss" in fitted.pretrain_history_[-1]
    assert "clustering_loss" in fitted.net_.history[-1]
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)


def test_shallow_transform_is_identity_shaped(blobs):
    X = blobs[0]
    est = DMAEClustering(n_clusters=3, autoencoder=None, epochs=2, random_state=0).fit(X)
    np.testing.assert_allclose(est.transform(X), X.astype(np.float32))
    assert est.cluster_centers_.shape == (3, 5)


def test_epochs_zero_is_pretraining_plus_kmeans(blobs):
    est = DMAEClustering(n_clusters=3, random_state=0, **{**SMALL, "epochs": 0}).fit(blobs[0])
    assert len(est.net_.history) == 0
    assert unsupervised_accuracy(blobs[1], est.labels_) > 0.9


def test_paper_profile_runs(blobs):
    # The paper's SGD pretraining assumes inputs scaled to [0, 1], like its image data.
    X = MinMaxScaler().fit_transform(blobs[0])
    est = DMAEClustering(
        n_clusters=3,
        profile="paper",
        hidden_dims=(16,),
        latent_dim=3,
        pretrain_epochs=3,
        epochs=2,
        random_state=0,
    ).fit(X)
    assert unsupervised_accuracy(blobs[1], est.labels_) > 0.9
    assert "graph_loss" not in est.pretrain_history_[-1]
    assert "reconstruction_loss" in est.pretrain_history_[-1]


def test_image_augmentation_inferred(digits):
    X = digits[0][:200]
    est = DMAEClustering(n_clusters=10, random_state=0, **SMALL).fit(X)
    assert est.net_.augment is not None
    assert est.net_.augment.image_shape == (1, 8, 8)
    est = DMAEClustering(n_clusters=10, image_shape=None, random_state=0, **SMALL).fit(X)
    assert est.net_.augment is None


def test_score_ranks_good_model_above_bad(blobs):
    X, _ = blobs
    good = DMAEClustering(n_clusters=3, random_state=0, **SMALL).fit(X)
    # A model with a single effective cluster explains the data badly.
    bad = DMAEClustering(n_clusters=3, init=np.zeros((3, 3)), epochs=0, random_state=0)
    bad.set_params(**{k: v for k, v in SMALL.items() if k != "epochs"}).fit(X)
    assert good.score(X) > bad.score(X)


def test_score_samples_density(blobs):
    X, _ = blobs
    est = DMAEClustering(
        n_clusters=3,
        autoencoder=None,
        dissimilarity="sqeuclidean",
        alpha=0.5,
        epochs=3,
        random_state=0,
    ).fit(X)
    log_density = est.score_samples(X)
    assert log_density.shape == (300,) and np.all(np.isfinite(log_density))
    # Points far from the data have a lower density.
    assert est.score_samples(X + 100).max() < log_density.min()
    assert not hasattr(DMAEClustering(dissimilarity="cosine"), "score_samples")


def test_collapse_guard():
    """Without the guard, fine-tuning with the paper's weights shrinks the latent space."""
    X, _ = make_blobs(400, centers=4, n_features=10, random_state=0)
    X = MinMaxScaler().fit_transform(X)
    common = dict(
        n_clusters=4,
        pretrain="autoencoder",
        hidden_dims=(32,),
        latent_dim=4,
        pretrain_epochs=20,
        epochs=30,
        lr=1e-2,
        alpha=1.0,
        lambda_r=0.01,
        dissimilarity="sqeuclidean",
        random_state=0,
    )
    scales = {}
    for guard in (False, True):
        est = DMAEClustering(scale_guard=guard, **common).fit(X)
        before = est.net_.reference_scale
        H = est.transform(X)
        after = float(np.sqrt(((H - H.mean(0)) ** 2).sum(1).mean()))
        scales[guard] = after / before
    assert scales[False] < 0.5  # collapse without the guard
    assert 0.7 < scales[True] < 1.4


# ---- scikit-learn integration -----------------------------------------------------------------
def test_pipeline_and_grid_search(blobs):
    X, y = blobs
    pipe = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("dmae", DMAEClustering(n_clusters=3, random_state=0, **SMALL)),
        ]
    )
    assert pipe.fit_predict(X).shape == (300,)
    idx = np.arange(len(X))
    grid = {"dmae__alpha": [1.0, 1000.0], "dmae__dissimilarity": ["euclidean", "cosine"]}
    search = GridSearchCV(pipe, grid, scoring=accuracy_scorer, cv=[(idx, idx)]).fit(X, y)
    assert search.best_score_ > 0.9
    unsupervised = GridSearchCV(pipe, {"dmae__alpha": [1.0, 1000.0]}, cv=[(idx, idx)]).fit(X)
    assert np.all(np.isfinite(unsupervised.cv_results_["mean_test_score"]))


def test_clone_pickle_and_determinism(fitted, blobs):
    X = blobs[0]
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    again = clone(fitted).fit(X)
    np.testing.assert_array_equal(again.labels_, fitted.labels_)
    np.testing.assert_array_equal(again.transform(X), fitted.transform(X))


def test_fit_leaves_global_rng_and_input_alone(blobs):
    X = blobs[0].copy()
    X_before = X.copy()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    DMAEClustering(n_clusters=3, random_state=0, **SMALL).fit(X)
    assert torch.equal(state, torch.get_rng_state())
    np.testing.assert_array_equal(X, X_before)


def test_sparse_dataframe_and_memmap_input(blobs, tmp_path):
    pd = pytest.importorskip("pandas")
    X = MinMaxScaler().fit_transform(blobs[0]).astype(np.float32)
    dense = DMAEClustering(n_clusters=3, random_state=0, **SMALL).fit(X)
    sparse = clone(dense).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(sparse.labels_, dense.labels_)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    est = clone(dense).fit(frame)
    assert list(est.feature_names_in_) == list(frame.columns)
    mm = np.memmap(tmp_path / "X.dat", dtype=np.float32, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    readonly = np.memmap(tmp_path / "X.dat", dtype=np.float32, mode="r", shape=X.shape)
    np.testing.assert_array_equal(clone(dense).fit(readonly).labels_, dense.labels_)


def test_user_callbacks_receive_events(blobs):
    class Count(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    counter = Count()
    DMAEClustering(n_clusters=3, callbacks=[counter], random_state=0, **SMALL).fit(blobs[0])
    assert counter.epochs == SMALL["epochs"]  # the last phase's count (initialize resets it)


# ---- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 1.0], [2.0, 2.0]]), "infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.arange(5.0), "2D array"),
    ],
)
def test_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        DMAEClustering(n_clusters=2, **SMALL).fit(X)


def test_bad_parameters(blobs):
    X = blobs[0]
    with pytest.raises(ValueError, match="n_clusters"):
        DMAEClustering(n_clusters=301, **SMALL).fit(X)
    with pytest.raises(ValueError, match="euclidean"):  # the message lists the valid names
        DMAEClustering(n_clusters=3, dissimilarity="hamming").fit(X)
    with pytest.raises(ValueError, match="alpha"):
        DMAEClustering(n_clusters=3, alpha=0.0).fit(X)
    with pytest.raises(ValueError, match="head_overclustering"):
        DMAEClustering(n_clusters=3, head_overclustering=0).fit(X)
    with pytest.raises(ValueError, match="image_shape"):
        DMAEClustering(n_clusters=3, image_shape=(1, 2, 2)).fit(X)
    with pytest.raises(ValueError, match="init"):
        DMAEClustering(n_clusters=3, init=np.zeros((2, 3)), **SMALL).fit(X)


def test_predict_errors(fitted, blobs):
    with pytest.raises(NotFittedError):
        DMAEClustering().predict(blobs[0])
    with pytest.raises(ValueError, match="features"):
        fitted.predict(blobs[0][:, :4])


def test_nan_loss_names_phase_and_epoch(blobs):
    X = blobs[0] * 1e30
    est = DMAEClustering(n_clusters=3, pretrain="autoencoder", random_state=0, **SMALL)
    with pytest.raises(FloatingPointError, match=r"pretraining loss became .* at epoch"):
        est.fit(X)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_rff_pretraining_learns_the_features():
    X, _ = make_blobs(200, centers=2, n_features=2, random_state=0)
    est = DMAEClustering(
        n_clusters=2,
        pretrain="rff",
        latent_dim=20,
        hidden_dims=(32,),
        pretrain_epochs=30,
        epochs=1,
        random_state=0,
    ).fit(X)
    feature_loss = est.pretrain_history_[:, "feature_loss"]
    assert feature_loss[-1] < 0.5 * feature_loss[0]


@pytest.mark.parametrize("pretrain, width", [("autoencoder", 10), ("rff", 100)])
def test_latent_dim_none_is_wider_for_random_fourier_features(pretrain, width):
    X, _ = make_blobs(60, centers=2, n_features=3, random_state=0)
    est = DMAEClustering(
        2, pretrain=pretrain, hidden_dims=(8,), pretrain_epochs=1, epochs=1, random_state=0
    )
    assert est.fit(X).transform(X).shape == (60, width)
    assert est.cluster_centers_.shape == (2, width)


def test_rff_recipe_separates_the_authors_circles():
    # The supplementary's setting. Pretrained as a plain autoencoder instead, the same model
    # splits the outer circle and reaches 0.73 ACC (KMeans on the points: 0.70).
    from skdeepclust.datasets import make_two_circles

    X, y = make_two_circles(1000, random_state=0)
    est = DMAEClustering(
        n_clusters=2,
        pretrain="rff",
        rff_gamma=10.0,
        dissimilarity="mahalanobis",
        alpha=1000.0,
        latent_dim=100,
        hidden_dims=(256, 256),
        random_state=0,
    ).fit(X)
    assert unsupervised_accuracy(y, est.labels_) >= 0.95


# ---- your own encoder and decoder ---------------------------------------------------------------
CUSTOM = dict(pretrain_epochs=1, epochs=1, n_neighbors=5, random_state=0)


@pytest.mark.parametrize("wrap", [False, True], ids=["pair", "Autoencoder"])
def test_custom_modules_are_trained_as_copies(blobs, wrap):
    from skdeepclust.nn.autoencoders import Autoencoder

    X = blobs[0]
    encoder, decoder = custom_pair(5, 2)
    before = weights(encoder, decoder)
    autoencoder = Autoencoder(encoder, decoder) if wrap else (encoder, decoder)
    est = DMAEClustering(n_clusters=3, autoencoder=autoencoder, **CUSTOM).fit(X)

    assert est.autoencoder is autoencoder
    assert isinstance(est.encoder_, CountingEncoder) and est.encoder_ is not encoder
    assert est.encoder_.calls > 0 and encoder.calls == 0
    # latent_dim (default 10) gives way to the width of the encoder's codes
    assert est.transform(X).shape == (300, 2) and est.cluster_centers_.shape == (3, 2)
    trained = weights(est.encoder_, est.module_.autoencoder.decoder)
    for user, initial, fitted in zip((encoder, decoder), before, trained, strict=True):
        for key, value in user.state_dict().items():
            assert torch.equal(value, initial[key])
        assert any(not torch.equal(fitted[key], initial[key]) for key in initial)


def test_custom_modules_clone_search_and_pickle(blobs):
    X = blobs[0]
    est = DMAEClustering(n_clusters=3, autoencoder=custom_pair(5, 2), **CUSTOM)
    codes = est.fit(X).transform(X)
    # Every fit starts from the weights passed in: refits and clones give the same model.
    np.testing.assert_array_equal(est.fit(X).transform(X), codes)
    np.testing.assert_array_equal(clone(est).fit(X).transform(X), codes)
    everything = np.arange(len(X))
    search = GridSearchCV(est, {"alpha": [10.0, 1000.0]}, cv=[(everything, everything)]).fit(X)
    assert isinstance(search.best_estimator_.encoder_, CountingEncoder)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))


def test_custom_modules_errors(blobs, tmp_path):
    X = blobs[0]
    with pytest.raises(ValueError, match="encoder must map"):  # codes without a batch axis
        DMAEClustering(autoencoder=(torch.nn.Flatten(0), torch.nn.Linear(2, 5))).fit(X)
    with pytest.raises(ValueError, match=r"decoder must map .* got shape \(16, 4\)"):
        DMAEClustering(autoencoder=(torch.nn.Linear(5, 2), torch.nn.Linear(2, 4))).fit(X)
    with pytest.raises(ValueError, match="pair"):
        DMAEClustering(autoencoder=(torch.nn.Linear(5, 2),)).fit(X)
    with pytest.raises(ValueError, match="autoencoder"):  # a lone module is not an autoencoder
        DMAEClustering(autoencoder=torch.nn.Linear(5, 2)).fit(X)
    est = DMAEClustering(n_clusters=3, autoencoder=custom_pair(5, 2), **CUSTOM).fit(X)
    with pytest.raises(ValueError, match="pickle or joblib"):
        est.save(tmp_path / "model.skdc")


def test_tabular_inputs_are_centred_and_scaled_inside_the_network():
    # Two circles of radius 0.25 and 0.5 around (3, 3): fed as they are, the ReLU encoder
    # cannot unfold them (0.505 ACC measured with the scaling disabled); centred and at unit
    # scale it separates them.
    from skdeepclust.datasets import make_two_circles
    from skdeepclust.nn.autoencoders import InputScaling

    X, y = make_two_circles(600, factor=0.5, noise=0.05, random_state=0)
    X = 0.5 * X + 3.0
    est = DMAEClustering(2, pretrain_epochs=40, epochs=0, random_state=0).fit(X)
    scaling = [m for m in est.module_.modules() if isinstance(m, InputScaling)]
    assert len(scaling) == 2
    np.testing.assert_allclose(scaling[0].shift.numpy(), X.mean(0), atol=1e-3)
    assert scaling[0].scale.item() == pytest.approx(
        np.sqrt(((X - X.mean(0)) ** 2).mean()), rel=1e-3
    )
    # The decoder maps back to the input's units.
    assert np.abs(est.prototypes().mean(0) - X.mean(0)).max() < 0.5
    assert unsupervised_accuracy(y, est.labels_) >= 0.95


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_precision_runs_networks_only_in_the_requested_arithmetic(blobs, precision):
    est = DMAEClustering(n_clusters=3, precision=precision, random_state=0, **SMALL)
    est.fit(blobs[0])
    assert est.net_.precision == precision
    assert unsupervised_accuracy(blobs[1], est.labels_) > 0.9
    # Parameters and inference stay float32 whatever the training arithmetic.
    assert all(p.dtype == torch.float32 for p in est.module_.parameters())
    assert est.predict_proba(blobs[0][:5]).dtype == np.float32
    h = est.net_._forward(est.module_.autoencoder.encoder, torch.zeros(4, 5))
    assert h.dtype == torch.float32
    optimizer = est.net_.optimizer_
    assert optimizer.defaults["fused"] is True


def test_precision_auto_follows_the_hardware(blobs, monkeypatch):
    import skdeepclust._base as base

    for fast, expected in ((False, "float32"), (True, "bfloat16")):
        monkeypatch.setattr(base, "has_fast_bfloat16", lambda device, fast=fast: fast)
        est = DMAEClustering(n_clusters=3, random_state=0, **SMALL).fit(blobs[0])
        assert est.net_.precision == expected
    with pytest.raises(ValueError, match="precision"):
        DMAEClustering(precision="float16").fit(blobs[0])


def test_has_fast_bfloat16_on_cpu_reads_the_instruction_probes(monkeypatch):
    from skdeepclust._base import has_fast_bfloat16

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    assert has_fast_bfloat16(torch.device("cpu")) is False
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert has_fast_bfloat16(torch.device("cpu")) is True
    assert has_fast_bfloat16(torch.device("meta")) is False


@pytest.mark.parametrize(
    "n_samples, pretrain, expected",
    [(1797, "graph", 4), (70_000, "graph", 2), (1797, "autoencoder", 11), (70_000, "rff", 5)],
)
def test_auto_finetuning_budget(n_samples, pretrain, expected):
    # After graph pretraining: an eighth of its epochs (32 on digits), at least 2; otherwise
    # about 20,000 samples seen, 5 to 100 epochs.
    auto = _auto_pretrain_epochs(n_samples, pretrain)
    assert DMAEClustering()._finetune_epochs(n_samples, pretrain, auto) == expected
    assert DMAEClustering(epochs=7)._finetune_epochs(n_samples, pretrain, auto) == 7


@pytest.mark.parametrize(
    "n_samples, steps_per_epoch, expected",
    # digits (72 batches of edges an epoch): the sample-count budget, 32 epochs, already
    # exceeds the step floor; two moons (35 batches): the floor, 2,250 steps; 70,000 images.
    [(1797, 72, 32), (1000, 35, 65), (70_000, 2900, 5), (50, 1, 500)],
)
def test_auto_graph_pretraining_budget_has_a_step_floor(n_samples, steps_per_epoch, expected):
    assert _auto_pretrain_epochs(n_samples, "graph", steps_per_epoch) == expected


class _RecordNets(Callback):
    """Records, per training phase, the settings of the net that trains it."""

    def __init__(self):
        self.nets = {}

    def on_train_begin(self, net, **kwargs):
        self.nets[net.phase] = dict(reconstruction_samples=net.reconstruction_samples)


@pytest.mark.parametrize("pretrain, expected", [("auto", 128), ("autoencoder", None)])
def test_default_profile_reconstructs_a_subset_of_each_edge_batch(pretrain, expected):
    # Graph pretraining reconstructs the first 128 heads of each 512-edge batch; plain
    # autoencoder pretraining reconstructs every sample.
    X, _ = make_blobs(600, centers=3, n_features=5, random_state=0)
    recorder = _RecordNets()
    DMAEClustering(3, pretrain=pretrain, callbacks=[recorder], random_state=0, **SMALL).fit(X)
    assert recorder.nets["pretraining"]["reconstruction_samples"] == expected
