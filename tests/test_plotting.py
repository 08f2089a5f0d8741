"""skdeepclust.plotting: each figure holds what it claims (axes, artists, labels, data)."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.collections import PathCollection
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits

from skdeepclust import DMAEClustering, MCDCClustering
from skdeepclust import plotting as P
from skdeepclust.bench import run_benchmark
from skdeepclust.metrics import unsupervised_accuracy

RES = 20  # grid resolution: enough to check values, cheap to predict


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def blobs2d():
    return make_blobs(150, centers=[[-4, 0], [4, 0], [0, 5]], cluster_std=0.5, random_state=0)


@pytest.fixture(scope="module")
def shallow(blobs2d):
    # sqeuclidean defines a density (score_samples); alpha 1 gives visibly soft boundaries.
    return DMAEClustering(
        3, autoencoder=None, dissimilarity="sqeuclidean", alpha=1.0, epochs=2, random_state=0
    ).fit(blobs2d[0])


@pytest.fixture(scope="module")
def blobs5d():
    return make_blobs(120, centers=3, n_features=5, cluster_std=0.5, random_state=0)


@pytest.fixture(scope="module")
def deep(blobs5d):
    return DMAEClustering(
        3,
        hidden_dims=(16,),
        latent_dim=3,
        pretrain_epochs=2,
        epochs=1,
        n_neighbors=5,
        random_state=0,
    ).fit(blobs5d[0])


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:100] / 16.0, y[:100]


@pytest.fixture(scope="module")
def mcdc(digits):
    return MCDCClustering(10, epochs=1, n_neighbors=5, random_state=0).fit(digits[0])


def _scatters(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection)]


# ---- optional dependency ----------------------------------------------------------------------
def test_importing_the_package_does_not_import_matplotlib():
    code = (
        "import sys, skdeepclust, skdeepclust.metrics, skdeepclust.datasets, skdeepclust.bench\n"
        "from skdeepclust import DMAEClustering, MCDCClustering\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "skdeepclust.plotting")
    with pytest.raises(ImportError, match=r"pip install 'skdeepclust\[plot\]'"):
        import skdeepclust.plotting  # noqa: F401


# ---- the input plane --------------------------------------------------------------------------
def test_decision_regions_image_is_the_prediction_grid(shallow, blobs2d):
    X = blobs2d[0]
    fig = P.plot_decision_regions(shallow, X, resolution=RES)
    (ax,) = fig.axes
    (image,) = ax.images
    regions = np.asarray(image.get_array())
    assert regions.shape == (RES, RES)
    assert set(np.unique(regions)) == {0, 1, 2}
    # The extent covers the data with a margin, and the grid's corners are predicted there.
    x0, x1, y0, y1 = image.get_extent()
    assert x0 < X[:, 0].min() and x1 > X[:, 0].max() and y0 < X[:, 1].min() and y1 > X[:, 1].max()
    corner = shallow.predict(np.array([[x0, y0]], dtype=np.float32))[0]
    assert regions[0, 0] == corner
    data, centres = _scatters(ax)
    assert len(data.get_offsets()) == len(X)
    assert len(centres.get_offsets()) == 3
    assert ax.get_title() == "DMAEClustering (sqeuclidean)"
    assert ax.get_xlabel() == "feature 0"


def test_decision_regions_colours_classes_like_their_matched_cluster(shallow, blobs2d):
    X, y = blobs2d
    by_cluster = _scatters(P.plot_decision_regions(shallow, X, resolution=RES).axes[0])[0]
    by_class = _scatters(P.plot_decision_regions(shallow, X, y, resolution=RES).axes[0])[0]
    # Well separated blobs: every sample is clustered correctly, so the colours coincide.
    assert unsupervised_accuracy(y, shallow.predict(X)) == 1.0
    np.testing.assert_allclose(by_class.get_facecolors(), by_cluster.get_facecolors())


def test_decision_regions_draws_into_given_axes_and_checks_dimensions(shallow, blobs2d):
    fig, axes = plt.subplots(1, 2)
    assert P.plot_decision_regions(shallow, blobs2d[0], resolution=RES, ax=axes[1]) is fig
    assert len(axes[1].images) == 1 and not axes[0].images
    with pytest.raises(ValueError, match="2 features"):
        P.plot_decision_regions(shallow, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="resolution"):
        P.plot_decision_regions(shallow, blobs2d[0], resolution=1)


def test_soft_assignments_show_the_largest_posterior(shallow, blobs2d):
    X = blobs2d[0]
    fig = P.plot_soft_assignments(shallow, X, resolution=RES)
    assert len(fig.axes) == 2  # the map and its colour bar
    ax = fig.axes[0]
    values = np.asarray(ax.images[0].get_array())
    assert values.shape == (RES, RES)
    assert values.min() >= 1 / 3 - 1e-6 and values.max() <= 1 + 1e-6
    assert values.min() < 0.9  # alpha=1: the boundaries are visibly uncertain
    assert fig.axes[1].get_ylabel() == "largest assignment"


def test_soft_assignments_of_one_component(shallow, blobs2d):
    X = blobs2d[0]
    fig = P.plot_soft_assignments(shallow, X, component=1, resolution=RES)
    values = np.asarray(fig.axes[0].images[0].get_array()).ravel()
    points = np.column_stack([c.ravel() for c in _grid_of(fig.axes[0].images[0], RES)])
    np.testing.assert_allclose(values, shallow.predict_proba(points)[:, 1], atol=1e-6)
    with pytest.raises(ValueError, match="component"):
        P.plot_soft_assignments(shallow, X, component=3)


def _grid_of(image, resolution):
    x0, x1, y0, y1 = image.get_extent()
    return np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))


def test_density_is_exp_score_samples(shallow, blobs2d):
    X = blobs2d[0]
    fig = P.plot_density(shallow, X, resolution=RES)
    image = fig.axes[0].images[0]
    points = np.column_stack([c.ravel() for c in _grid_of(image, RES)]).astype(np.float32)
    expected = np.exp(shallow.score_samples(points))
    np.testing.assert_allclose(np.asarray(image.get_array()).ravel(), expected, rtol=1e-5)
    assert fig.axes[1].get_ylabel() == "density"
    log_fig = P.plot_density(shallow, X, log=True, resolution=RES)
    log_values = np.asarray(log_fig.axes[0].images[0].get_array()).ravel()
    np.testing.assert_allclose(log_values, np.log(expected), rtol=1e-5, atol=1e-4)
    assert log_fig.axes[1].get_ylabel() == "log-density"


def test_density_needs_score_samples(blobs2d):
    X = blobs2d[0]
    est = DMAEClustering(3, autoencoder=None, epochs=1, random_state=0).fit(X)  # euclidean
    with pytest.raises(TypeError, match="sqeuclidean"):
        P.plot_density(est, X)


# ---- alpha ------------------------------------------------------------------------------------
def test_assignment_sparsity_counts_entries_above_tol():
    proba = np.array([[0.5, 0.4999, 1e-4], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    np.testing.assert_array_equal(P.assignment_sparsity(proba), [2, 1, 3])
    np.testing.assert_array_equal(P.assignment_sparsity(proba, tol=1e-5), [3, 1, 3])
    with pytest.raises(ValueError, match="2-D"):
        P.assignment_sparsity([0.5, 0.5])


def test_sparsity_vs_alpha_fits_one_model_per_alpha(blobs2d):
    X = blobs2d[0]
    alphas = [0.01, 100.0]
    fitted = []

    def factory(alpha):
        est = DMAEClustering(3, autoencoder=None, alpha=alpha, epochs=1, random_state=0)
        fitted.append(est)
        return est

    fig = P.plot_sparsity_vs_alpha(alphas, X, factory)
    assert [est.alpha for est in fitted] == alphas
    (ax,) = fig.axes
    curve = ax.lines[0]
    np.testing.assert_allclose(curve.get_xdata(), alphas)
    low, high = curve.get_ydata()
    assert low > 2.5 and high == pytest.approx(1.0)  # soft at small alpha, hard at large
    assert ax.get_xscale() == "log"
    assert ax.get_ylim() == (0.0, 3.5)
    assert "alpha" in ax.get_xlabel()


def test_sparsity_vs_alpha_from_precomputed_values():
    per_sample = [[3, 3, 2, 2], [1, 1, 1, 1]]
    ax = P.plot_sparsity_vs_alpha([1, 10], sparsity=per_sample).axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [2.5, 1.0])
    assert len(ax.collections) == 1  # the std band
    with pytest.raises(ValueError, match="either"):
        P.plot_sparsity_vs_alpha([1, 10])
    with pytest.raises(ValueError, match="not both"):
        P.plot_sparsity_vs_alpha([1, 10], np.zeros((3, 2)), sparsity=[1, 1])
    with pytest.raises(ValueError, match="one row per alpha"):
        P.plot_sparsity_vs_alpha([1, 10, 100], sparsity=[1, 1])
    with pytest.raises(ValueError, match="positive"):
        P.plot_sparsity_vs_alpha([0, 10], sparsity=[1, 1])


def test_accuracy_vs_alpha_draws_one_curve_per_label():
    alphas = [1, 100, 10_000]
    accuracies = {"AE + KMeans": [[0.7, 0.8]] * 3, "DMAE": [0.9, 0.91, 0.92]}
    ax = P.plot_accuracy_vs_alpha(alphas, accuracies).axes[0]
    assert [line.get_label() for line in ax.lines] == ["AE + KMeans", "DMAE"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.75] * 3)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.9, 0.91, 0.92])
    assert len(ax.collections) == 1  # only the curve with trials has a band
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["AE + KMeans", "DMAE"]
    assert ax.get_ylim() == (0, 1.02) and ax.get_xscale() == "log"
    single = P.plot_accuracy_vs_alpha(alphas, [0.5, 0.6, 0.7]).axes[0]
    assert len(single.lines) == 1 and single.get_legend() is None


# ---- the latent space -------------------------------------------------------------------------
def test_latent_space_panels_by_cluster_and_class(deep, blobs5d):
    X, y = blobs5d
    fig = P.plot_latent_space(deep, X, y)
    assert [ax.get_title() for ax in fig.axes] == ["clusters", "classes"]
    for ax in fig.axes:
        (scatter,) = _scatters(ax)
        assert len(scatter.get_offsets()) == len(X)
        assert len(ax.texts) == 3  # one label per cluster / class
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("PC 1", "PC 2")
    # PCA of the codes: the points are centred.
    np.testing.assert_allclose(_scatters(fig.axes[0])[0].get_offsets().mean(0), 0, atol=1e-4)
    assert "DMAEClustering" in fig.get_suptitle()


def test_latent_space_without_labels_and_with_tsne(deep, blobs5d):
    X = blobs5d[0][:40]
    assert len(P.plot_latent_space(deep, X).axes) == 1
    # One thread: t-SNE's OpenMP loops crawl on busy cores, and only the labels matter here.
    with threadpool_limits(1):
        assert P.plot_latent_space(deep, X, method="tsne").axes[0].get_xlabel() == "t-SNE 1"
    with pytest.raises(ValueError, match="method"):
        P.plot_latent_space(deep, X, method="umap")


def test_interpolations_from_an_estimator(mcdc, digits):
    X, _ = digits
    fig = P.plot_interpolations(mcdc, (X[:2], X[2:4]), 5, row_labels=["a", "b"])
    assert len(fig.axes) == 10
    first, last = fig.axes[0], fig.axes[4]
    assert first.get_title() == "0.00" and last.get_title() == "1.00"
    assert fig.axes[5].get_title() == ""  # titles on the top row only
    assert fig.axes[5].get_ylabel() == "b"
    paths = mcdc.interpolate(X[:2], X[2:4], 5)
    for i, ax in enumerate(fig.axes):
        (image,) = ax.images
        np.testing.assert_allclose(image.get_array(), paths[i // 5, i % 5].reshape(8, 8))


def test_interpolations_from_images():
    rgb = np.random.default_rng(0).uniform(-1, 3, size=(1, 3, 3, 4, 4))
    fig = P.plot_interpolations(rgb)
    assert len(fig.axes) == 3
    image = np.asarray(fig.axes[0].images[0].get_array())
    assert image.shape == (4, 4, 3) and image.min() >= 0 and image.max() <= 1
    flat = np.zeros((2, 4, 12))
    assert np.asarray(
        P.plot_interpolations(flat, image_shape=(3, 4)).axes[0].images[0].get_array()
    ).shape == (3, 4)
    with pytest.raises(ValueError, match="image_shape"):
        P.plot_interpolations(flat)
    with pytest.raises(ValueError, match="x_pairs"):
        P.plot_interpolations(flat, (flat, flat))


def test_interpolations_need_pairs_with_an_estimator(mcdc):
    with pytest.raises(ValueError, match="x_pairs"):
        P.plot_interpolations(mcdc)


def test_class_spectrum_one_panel_per_model():
    spectra = {
        "AE": np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2]]),
        "MCDC": np.array([[0.4, 0.3, 0.3], [0.4, 0.4, 0.2]]),
    }
    fig = P.plot_class_spectrum(spectra, n_components=2)
    assert [ax.get_title() for ax in fig.axes] == ["AE", "MCDC"]
    for ax, spectrum in zip(fig.axes, spectra.values()):
        heights = [bar.get_height() for bar in ax.patches]
        np.testing.assert_allclose(heights, spectrum[:, :2].mean(0))
        assert len(ax.lines) == 2  # one per class
    assert fig.axes[0].get_ylabel() == "explained variance ratio"
    with pytest.raises(ValueError, match="2-D"):
        P.plot_class_spectrum([0.5, 0.5])


# ---- evaluation -------------------------------------------------------------------------------
def test_confusion_after_hungarian_mapping():
    y_true = ["a", "a", "a", "b", "b", "c", "c"]
    y_pred = [7, 7, 4, 4, 4, 9, 2]  # 4 clusters, 3 classes: one cluster is unmatched
    fig = P.plot_confusion(y_true, y_pred)
    ax = fig.axes[0]
    matrix = np.asarray(ax.images[0].get_array())
    assert matrix.shape == (3, 4)
    accuracy = unsupervised_accuracy(y_true, y_pred)
    assert np.trace(matrix) / matrix.sum() == pytest.approx(accuracy)
    assert ax.get_title() == f"accuracy {accuracy:.3f} (Hungarian mapping)"
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[:3] == ["a\n(cluster 7)", "b\n(cluster 4)", "c\n(cluster 2)"]
    assert ticks[3] == "cluster 9\n(unmatched)"
    assert len(ax.texts) == matrix.size
    assert fig.axes[1].get_ylabel() == "samples"


def test_confusion_normalized_with_class_names():
    fig = P.plot_confusion([0, 0, 1, 1], [1, 1, 1, 0], normalize=True, class_names=["x", "y"])
    matrix = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_allclose(matrix.sum(1), 1)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["x", "y"]
    with pytest.raises(ValueError, match="class_names"):
        P.plot_confusion([0, 1], [0, 1], class_names=["x"])


def test_training_history_of_deep_dmae(deep):
    fig = P.plot_training_history(deep)
    assert [ax.get_title() for ax in fig.axes] == ["pretraining", "fine-tuning"]
    pretraining, finetuning = fig.axes
    labels = {line.get_label(): line for line in finetuning.lines}
    assert {"clustering_loss", "reconstruction_loss", "train_loss"} <= set(labels)
    assert "dur" not in labels and "train_loss_best" not in labels
    np.testing.assert_allclose(
        labels["train_loss"].get_ydata(), deep.net_.history[:, "train_loss"]
    )
    assert len(pretraining.lines[0].get_xdata()) == 2  # pretrain_epochs
    assert pretraining.get_xlabel() == "epoch"


def test_training_history_shows_the_distillation(deep, digits, tmp_path):
    est = clone(deep).set_params(head="distilled", head_restarts=1).fit(digits[0])
    fig = P.plot_training_history(est)
    assert [ax.get_title() for ax in fig.axes] == ["pretraining", "fine-tuning", "distillation"]
    labels = {line.get_label(): line for line in fig.axes[2].lines}
    assert {"distillation_loss", "train_loss"} <= set(labels)
    np.testing.assert_allclose(
        labels["train_loss"].get_ydata(), est.distillation_history_[:, "train_loss"]
    )
    est.save(tmp_path / "m.skdc")
    with pytest.raises(ValueError, match="histories are not saved"):
        P.plot_training_history(DMAEClustering.load(tmp_path / "m.skdc"))


def test_training_history_of_mcdc_and_shallow(mcdc, shallow, blobs2d):
    fig = P.plot_training_history(mcdc)
    (ax,) = fig.axes  # pretrain_history_ is net_.history: drawn once
    assert ax.get_title() == "mixing training"
    assert {"mixing_loss", "critic_loss"} <= {line.get_label() for line in ax.lines}
    assert [ax.get_title() for ax in P.plot_training_history(shallow).axes] == ["fine-tuning"]
    idle = DMAEClustering(3, autoencoder=None, epochs=0, random_state=0).fit(blobs2d[0])
    with pytest.raises(ValueError, match="no training epoch"):
        P.plot_training_history(idle)
    with pytest.raises(NotFittedError):
        P.plot_training_history(DMAEClustering())


def test_benchmark_bars_and_missing_results():
    nan = float("nan")
    rows = [
        dict(dataset="d1", model="A", acc_mean=0.9, acc_std=0.1, fit_s_mean=2.0, fit_s_std=0.0),
        dict(dataset="d1", model="B", acc_mean=nan, acc_std=nan, fit_s_mean=nan, fit_s_std=nan),
        dict(dataset="d2", model="A", acc_mean=0.5, acc_std=0.0, fit_s_mean=20, fit_s_std=1.0),
        dict(dataset="d2", model="B", acc_mean=0.6, acc_std=0.0, fit_s_mean=0.1, fit_s_std=0),
    ]
    fig = P.plot_benchmark(rows, metrics=("acc", "fit_s"))
    acc, fit = fig.axes
    assert (acc.get_title(), fit.get_title()) == ("ACC", "fit time (s)")
    heights = [bar.get_height() for bar in acc.patches]
    np.testing.assert_allclose(heights, [0.9, 0.5, nan, 0.6])  # model A's bars, then B's
    assert [t.get_text() for t in acc.texts] == ["n/a"]  # the failure is not a zero bar
    assert fit.get_yscale() == "log" and acc.get_yscale() == "linear"
    assert [t.get_text() for t in acc.get_xticklabels()] == ["d1", "d2"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["A", "B"]
    with pytest.raises(ValueError, match="Unknown metrics"):
        P.plot_benchmark(rows, metrics=("accuracy",))
    with pytest.raises(ValueError, match="empty"):
        P.plot_benchmark([])


def test_benchmark_reads_run_benchmark_rows():
    rows = run_benchmark(["moons"], ["kmeans"], [0, 1], progress=False)
    fig = P.plot_benchmark(rows)
    assert [ax.get_title() for ax in fig.axes] == ["ACC", "NMI", "fit time (s)"]
    assert fig.axes[0].patches[0].get_height() == pytest.approx(rows[0]["acc_mean"])
