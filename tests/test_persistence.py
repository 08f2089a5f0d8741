"""Saving and loading fitted estimators: save/load, pickle and joblib round trips."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import joblib
import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import NotFittedError

from skdeepclust import DMAEClustering, MCDCClustering
from skdeepclust.persistence import FORMAT_VERSION, load, save

TINY_DEEP = dict(
    hidden_dims=(8,), latent_dim=2, pretrain_epochs=1, epochs=1, n_neighbors=5, head="mixture"
)
TINY_MCDC = dict(hidden_dims=(8,), latent_dim=2, epochs=1, n_neighbors=5, head="kmeans")

CASES = {
    "dmae-shallow": (DMAEClustering, dict(autoencoder=None, epochs=2)),
    "dmae-deep": (DMAEClustering, TINY_DEEP),
    "dmae-mahalanobis": (DMAEClustering, dict(TINY_DEEP, dissimilarity="mahalanobis")),
    "dmae-minkowski-array-init": (
        DMAEClustering,
        dict(
            TINY_DEEP,
            dissimilarity="minkowski",
            dissimilarity_params={"p": 3},
            init=np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 1.0]]),
        ),
    ),
    "dmae-conv": (DMAEClustering, dict(TINY_DEEP, autoencoder="conv", latent_dim=4)),
    # latent_dim=None: 100 codes with the random-Fourier-feature pretraining.
    "dmae-rff": (DMAEClustering, dict(TINY_DEEP, pretrain="rff", latent_dim=None)),
    "dmae-distilled": (DMAEClustering, dict(TINY_DEEP, head="distilled", head_restarts=2)),
    "mcdc": (MCDCClustering, TINY_MCDC),
    "mcdc-heads": (MCDCClustering, dict(TINY_MCDC, head="consistency", head_restarts=2)),
    "mcdc-variational": (MCDCClustering, dict(TINY_MCDC, variational=True)),
    "mcdc-idec": (MCDCClustering, dict(TINY_MCDC, clustering_loss="idec", finetune_epochs=1)),
    "mcdc-conv": (MCDCClustering, dict(TINY_MCDC, autoencoder="conv", depth=2, latent_dim=4)),
}


@pytest.fixture(scope="module")
def data():
    # Non-negative with 64 features: image_shape="auto" infers 8x8 images, which the conv
    # cases need; the MLP cases treat it as tabular data.
    return load_digits().data[:90] / 16.0


@pytest.fixture(scope="module", params=sorted(CASES))
def fitted(request, data):
    cls, kwargs = CASES[request.param]
    return cls(n_clusters=3, random_state=0, **kwargs).fit(data)


def _assert_same_predictions(a, b, X):
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.score(X) == b.score(X)


def test_save_load_round_trip_is_exact(fitted, data, tmp_path):
    path = tmp_path / "model.skdc"
    fitted.save(path)
    loaded = type(fitted).load(path)
    assert type(loaded) is type(fitted)
    _assert_same_predictions(loaded, fitted, data)
    np.testing.assert_array_equal(loaded.prototypes(), fitted.prototypes())
    assert loaded.get_params().keys() == fitted.get_params().keys()
    for key, value in fitted.get_params().items():
        np.testing.assert_equal(loaded.get_params()[key], value)
    assert type(loaded.get_params()["hidden_dims"]) is type(fitted.hidden_dims)
    for attr in ("labels_", "cluster_centers_", "n_iter_", "n_features_in_"):
        np.testing.assert_array_equal(getattr(loaded, attr), getattr(fitted, attr))
        assert np.asarray(getattr(loaded, attr)).dtype == np.asarray(getattr(fitted, attr)).dtype
    # Histories are not saved: every one the fit set is None after loading.
    histories = [attr for attr in vars(fitted) if attr.endswith("history_")]
    assert "pretrain_history_" in histories
    assert loaded.net_ is None
    assert all(getattr(loaded, attr, "missing") is None for attr in histories)
    assert not loaded.module_.training


def test_dmae_mixture_attributes_round_trip(data, tmp_path):
    est = DMAEClustering(n_clusters=3, dissimilarity="mahalanobis", random_state=0, **TINY_DEEP)
    est.fit(data)
    save(est, tmp_path / "m.skdc")
    loaded = load(tmp_path / "m.skdc")
    for attr in ("mixing_weights_", "precisions_"):
        np.testing.assert_array_equal(getattr(loaded, attr), getattr(est, attr))
    assert loaded.encoder_ is loaded.module_.autoencoder.encoder


def test_mcdc_whitening_round_trip(data, tmp_path):
    est = MCDCClustering(n_clusters=3, random_state=0, **TINY_MCDC).fit(data)
    save(est, tmp_path / "m.skdc")
    loaded = load(tmp_path / "m.skdc")
    for attr in ("latent_mean_", "latent_components_", "latent_scale_"):
        np.testing.assert_array_equal(getattr(loaded, attr), getattr(est, attr))
        assert getattr(loaded, attr).dtype == getattr(est, attr).dtype
    assert loaded.image_shape_ == est.image_shape_
    np.testing.assert_array_equal(
        loaded.critic_(torch.as_tensor(data[:5], dtype=torch.float32)).detach(),
        est.critic_(torch.as_tensor(data[:5], dtype=torch.float32)).detach(),
    )
    np.testing.assert_array_equal(
        loaded.interpolate(data[0], data[1]), est.interpolate(data[0], data[1])
    )


def test_feature_names_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    X, _ = make_blobs(60, centers=2, n_features=3, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    est = DMAEClustering(n_clusters=2, autoencoder=None, epochs=1, random_state=0).fit(frame)
    est.save(tmp_path / "m.skdc")
    loaded = DMAEClustering.load(tmp_path / "m.skdc")
    np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
    np.testing.assert_array_equal(loaded.predict(frame), est.predict(frame))
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame[["c", "b", "a"]])


def test_load_leaves_the_global_rng_alone(data, tmp_path):
    est = DMAEClustering(n_clusters=3, random_state=0, **TINY_DEEP).fit(data)
    est.save(tmp_path / "m.skdc")
    state = torch.get_rng_state()
    DMAEClustering.load(tmp_path / "m.skdc")
    assert torch.equal(state, torch.get_rng_state())


def test_save_replaces_files_whole(data, tmp_path):
    est = DMAEClustering(n_clusters=3, autoencoder=None, epochs=1, random_state=0).fit(data)
    path = tmp_path / "m.skdc"
    path.write_bytes(b"old")
    est.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.skdc"]  # no temporary file left over
    assert zipfile.is_zipfile(path)


# ---- pickle and joblib -------------------------------------------------------------------------
@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trips(fitted, data, tmp_path, dump):
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(fitted))
    else:
        joblib.dump(fitted, tmp_path / "m.joblib")
        restored = joblib.load(tmp_path / "m.joblib")
    _assert_same_predictions(restored, fitted, data)
    assert len(restored.net_.history) == len(fitted.net_.history)  # pickle keeps the histories


@pytest.mark.filterwarnings("ignore::skorch.exceptions.DeviceWarning")  # the nets' own notice
@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_gpu_pickle_loads_on_a_cpu_only_machine(fitted, data, tmp_path, monkeypatch, dump):
    """Simulated on CPU: every tensor of the pickle is tagged as stored on ``cuda:0``.

    ``torch.serialization.location_tag`` names the device each storage is restored to; making
    it answer "cuda:0" while pickling gives the file a GPU-trained model would have. Unpickling
    must map the tensors to the CPU, warn, and reset ``device`` to "cpu".
    """
    est = pickle.loads(pickle.dumps(fitted))
    est.set_params(device="cuda")
    est.net_.device = "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        blob = est.__getstate__()["torch_state"]
        if dump == "pickle":
            dumped = pickle.dumps(est)
        else:
            joblib.dump(est, tmp_path / "m.joblib")
    # The simulation is faithful: without a map_location the tensors need CUDA.
    with pytest.raises(RuntimeError, match="CUDA"):
        torch.load(io.BytesIO(blob), weights_only=False)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        if dump == "pickle":
            restored = pickle.loads(dumped)
        else:
            restored = joblib.load(tmp_path / "m.joblib")
    assert restored.device == "cpu"
    assert all(p.device.type == "cpu" for p in restored.module_.parameters())
    _assert_same_predictions(restored, fitted, data)


def test_checkpoint_dir_path_is_saved_as_a_string(data, tmp_path):
    est = DMAEClustering(
        n_clusters=3, autoencoder=None, epochs=1, random_state=0, checkpoint_dir=tmp_path / "c"
    ).fit(data)
    est.save(tmp_path / "m.skdc")
    assert DMAEClustering.load(tmp_path / "m.skdc").checkpoint_dir == str(tmp_path / "c")


# ---- what cannot be saved, and files that cannot be loaded --------------------------------------
def squared_distance(H, C):
    return torch.cdist(H, C).pow(2)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"dissimilarity": squared_distance}, "params.dissimilarity"),
        ({"random_state": np.random.RandomState(0)}, "params.random_state"),
    ],
)
def test_pickle_only_parameters_raise_on_save(data, tmp_path, params, field):
    est = DMAEClustering(n_clusters=3, autoencoder=None, epochs=1, **params).fit(data)
    with pytest.raises(ValueError, match=rf"{field}=.*no JSON form.*pickle or joblib"):
        est.save(tmp_path / "m.skdc")
    assert not any(tmp_path.iterdir())


def test_save_needs_a_fitted_skdeepclust_estimator(data, tmp_path):
    with pytest.raises(NotFittedError):
        DMAEClustering().save(tmp_path / "m.skdc")
    with pytest.raises(TypeError, match="use pickle or joblib"):
        save(KMeans(2, n_init=1).fit(data), tmp_path / "m.skdc")


def _rewrite(path, *, manifest=None, tensors=None):
    """Copy a model file with its manifest edited by ``manifest(dict)`` or new tensor bytes."""
    with zipfile.ZipFile(path) as archive:
        content = json.loads(archive.read("manifest.json"))
        payload = archive.read("tensors.pt")
    if manifest is not None:
        manifest(content)
    out = path.with_name("edited.skdc")
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("manifest.json", json.dumps(content))
        archive.writestr("tensors.pt", payload if tensors is None else tensors)
    return out


@pytest.fixture(scope="module")
def model_file(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.skdc"
    DMAEClustering(n_clusters=3, random_state=0, **TINY_DEEP).fit(data).save(path)
    return path


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 0, "1", None])
def test_tampered_format_version_errors_clearly(model_file, version):
    edited = _rewrite(model_file, manifest=lambda m: m.update(format_version=version))
    message = rf"format_version={version!r}.*reads format_version={FORMAT_VERSION} only"
    with pytest.raises(ValueError, match=message):
        load(edited)


def test_files_that_are_not_models_error_clearly(model_file, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a zip file"):
        load(text)
    weights = tmp_path / "weights.pt"  # torch.save writes a zip too
    torch.save({"w": torch.zeros(2)}, weights)
    with pytest.raises(ValueError, match=r"without manifest\.json"):
        load(weights)
    edited = _rewrite(model_file, manifest=lambda m: m.update(format="other"))
    with pytest.raises(ValueError, match="no skdeepclust manifest"):
        load(edited)
    edited = _rewrite(model_file, manifest=lambda m: m.update(estimator="KMeans"))
    with pytest.raises(ValueError, match="unknown estimator 'KMeans'"):
        load(edited)


def test_inconsistent_files_error_clearly(model_file):
    edited = _rewrite(model_file, manifest=lambda m: m["architecture"].update(latent_dim=3))
    with pytest.raises(ValueError, match="weights of module_ do not fit"):
        load(edited)
    edited = _rewrite(model_file, manifest=lambda m: m["params"].update(bogus=1))
    with pytest.raises(ValueError, match="parameters do not match"):
        load(edited)
    with pytest.raises(TypeError, match="not a MCDCClustering"):
        MCDCClustering.load(model_file)


_executed = []


class _Payload:
    def __reduce__(self):
        return (_executed.append, ("code from the file ran",))


def test_load_never_executes_code_from_the_file(model_file):
    buffer = io.BytesIO()
    torch.save({"module_/x": _Payload()}, buffer)
    edited = _rewrite(model_file, tensors=buffer.getvalue())
    with pytest.raises(ValueError, match="tensors cannot be read"):
        load(edited)
    assert _executed == []


# ---- devices ---------------------------------------------------------------------------------
def test_model_trained_for_cuda_loads_on_cpu(data, tmp_path):
    """Simulated on CPU: a file whose manifest says ``device="cuda"`` loads with device="cpu".

    ``save`` always moves tensors to the CPU, so the only device left in the file is the
    ``device`` parameter; loading replaces it with the ``device`` argument. A CUDA request on a
    machine without CUDA fails early with a clear ValueError.
    """
    est = DMAEClustering(n_clusters=3, random_state=0, **TINY_DEEP).fit(data)
    est.set_params(device="cuda")  # as if trained on a GPU
    est.save(tmp_path / "m.skdc")
    with zipfile.ZipFile(tmp_path / "m.skdc") as archive:
        assert json.loads(archive.read("manifest.json"))["params"]["device"] == "cuda"
    loaded = DMAEClustering.load(tmp_path / "m.skdc", device="cpu")
    assert loaded.device == "cpu"
    est.set_params(device="cpu")
    _assert_same_predictions(loaded, est, data)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            DMAEClustering.load(tmp_path / "m.skdc", device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_trained_model_loads_on_cpu(data, tmp_path):
    """A model fitted with device="cuda" is saved, loaded with device="cpu" and predicts there.

    Checks that every weight of the loaded model is on the CPU, that its labels equal the GPU
    model's and that its soft assignments match them to float32 rounding (CPU and GPU kernels
    differ, so exact equality is not expected).
    """
    est = DMAEClustering(n_clusters=3, device="cuda", random_state=0, **TINY_DEEP).fit(data)
    est.save(tmp_path / "m.skdc")
    loaded = DMAEClustering.load(tmp_path / "m.skdc", device="cpu")
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())
    np.testing.assert_array_equal(loaded.predict(data), est.predict(data))
    np.testing.assert_allclose(loaded.predict_proba(data), est.predict_proba(data), atol=1e-5)
