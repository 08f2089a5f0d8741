"""Saving and loading fitted estimators without pickle.

:func:`save` writes one **zip file** holding two members:

``manifest.json``
    What the model is: ``format`` (always ``"skdeepclust-model"``), ``format_version``, the
    versions of skdeepclust, torch and scikit-learn that wrote it, the estimator's class name, its
    ``get_params()``, ``n_features_in_``, ``feature_names_in_`` (when fitted on a DataFrame),
    the small fitted attributes (``n_iter_``, ``image_shape_``) and the architecture of its torch
    modules as resolved in ``fit`` (``"auto"`` settings and profile defaults filled in).
``tensors.pt``
    A :func:`torch.save` of a flat ``dict[str, Tensor]``: the ``state_dict`` of every torch
    module (``module_``, and ``critic_`` for MCDC) and the fitted arrays (``labels_``,
    ``cluster_centers_``, ``mixing_weights_``, ``precisions_``, the whitening statistics of
    MCDC, ...), all moved to the CPU.

:func:`load` reads the manifest with :mod:`json`, rebuilds the estimator from its parameters and
its modules, untrained, with the same builders ``fit`` uses, then reads the tensors with
``torch.load(..., weights_only=True)``. Neither step can execute code stored in the file,
unlike :mod:`pickle` and :mod:`joblib`, which must only be used on files you trust.

What is not saved: the training histories (``net_``, ``pretrain_history_`` and DMAE's
``distillation_history_`` are None after loading), the optimisers' states and the skorch nets,
so a loaded model predicts, transforms and scores exactly like the saved one but cannot resume
training. Parameters must be JSON values (None, bools, numbers, strings, tuples, lists, dicts
with string keys) or numeric arrays; a callable ``dissimilarity``, your own autoencoder modules,
skorch ``callbacks`` or a ``RandomState`` instance make :func:`save` raise a ``ValueError``:
pickle or joblib such models instead.

Examples
--------
>>> import tempfile, os
>>> import numpy as np
>>> from sklearn.datasets import make_blobs
>>> from skdeepclust import DMAEClustering
>>> X, _ = make_blobs(60, centers=2, random_state=0)
>>> est = DMAEClustering(n_clusters=2, autoencoder=None, epochs=1, random_state=0).fit(X)
>>> path = os.path.join(tempfile.mkdtemp(), "model.skdc")
>>> est.save(path)
>>> same = DMAEClustering.load(path)
>>> bool(np.array_equal(same.predict_proba(X), est.predict_proba(X)))
True
"""

from __future__ import annotations

import importlib
import io
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sklearn
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .nn.autoencoders import is_custom_autoencoder

__all__ = ["FORMAT_VERSION", "load", "save"]

FORMAT = "skdeepclust-model"
FORMAT_VERSION = 5
"""Version of the file layout; :func:`load` refuses files with another version."""

_MANIFEST = "manifest.json"
_TENSORS = "tensors.pt"


# ---- JSON encoding of parameters and small attributes -------------------------------------------
class _NotStorable(Exception):
    """A value that has no JSON (or tensor) form; turned into a ValueError naming the field."""


def _encode(value: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    """JSON form of ``value``; arrays go to ``tensors[key]`` and are referenced by key.

    Containers are tagged (``{"tuple": [...]}``, ``{"dict": {...}}``) so that tuples stay tuples
    (``hidden_dims``) and every JSON object in the output is a tag: decoding is unambiguous.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise _NotStorable(f"the non-finite number {value!r}")
        return float(value)
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, os.PathLike):  # checkpoint_dir
        return os.fspath(value)
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, f"{key}.{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{key}.{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise _NotStorable("a dict with non-string keys")
        return {"dict": {k: _encode(v, f"{key}.{k}", tensors) for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        if value.dtype == object and all(isinstance(v, str) for v in value.flat):
            return {"strings": value.tolist()}
        if value.dtype.kind not in "biuf":
            raise _NotStorable(f"an array of dtype {value.dtype}")
        tensors[key] = torch.from_numpy(np.ascontiguousarray(value))
        return {"ndarray": key}
    if isinstance(value, torch.Tensor):
        tensors[key] = value.detach().cpu().contiguous()
        return {"tensor": key}
    raise _NotStorable(f"a {type(value).__module__}.{type(value).__qualname__}")


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        ((tag, content),) = value.items()
        if tag == "tuple" and isinstance(content, list):
            return tuple(_decode(v, tensors) for v in content)
        if tag == "dict" and isinstance(content, dict):
            return {k: _decode(v, tensors) for k, v in content.items()}
        if tag == "strings" and isinstance(content, list):
            return np.asarray(content, dtype=object)
        if tag in ("ndarray", "tensor") and isinstance(content, str) and content in tensors:
            tensor = tensors[content]
            return tensor.cpu().numpy() if tag == "ndarray" else tensor
    raise _InvalidFile(f"unreadable value {value!r} in the manifest")


def _decode_fields(fields: Any, tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Decode a top-level manifest section, a plain (untagged) object of encoded values."""
    if not isinstance(fields, dict):
        raise _InvalidFile(f"a manifest section is {type(fields).__name__}, not an object")
    return {key: _decode(value, tensors) for key, value in fields.items()}


# ---- the estimators: which modules and attributes, how to rebuild them --------------------------
@dataclass(frozen=True)
class _Kind:
    """How one estimator class is saved and rebuilt.

    Attributes
    ----------
    module : str
        Module of the class, relative to the package.
    modules : tuple of str
        Fitted torch-module attributes whose ``state_dict`` is saved; an optional one that is
        None (MCDC's ``head_`` without a head) is left out, and is None after loading.
    attributes : tuple of str
        Other fitted attributes (arrays, numbers, tuples or None).
    histories : tuple of str
        Fitted training histories besides ``net_``'s: not saved, None after loading.
    architecture : callable
        ``architecture(est) -> dict``: what the builders need, read from a fitted estimator.
    build : callable
        ``build(est, architecture) -> {attribute: module}``: untrained modules of that shape.
    attach : callable
        ``attach(est)``: sets the attributes derived from the modules (``encoder_``).
    """

    module: str
    modules: tuple[str, ...]
    attributes: tuple[str, ...]
    histories: tuple[str, ...]
    architecture: Callable[[Any], dict]
    build: Callable[[Any, dict], dict[str, nn.Module]]
    attach: Callable[[Any], None]


def _heads_architecture(head) -> dict:
    """Heads of a fitted consensus head (0 without one) and their number of clusters."""
    if head is None:
        return {"heads": 0}
    return {"heads": len(head.heads), "head_clusters": head.heads[0].n_clusters}


def _consensus_head(n_features: int, n_clusters: int, arch: dict):
    """An untrained consensus of ``arch["heads"]`` consistency heads, or None for 0 heads.

    Their ``arch["head_clusters"]`` clusters are grouped into ``n_clusters`` (the saved
    grouping is loaded with the weights).
    """
    from .nn.heads import ConsensusHead, ConsistencyHead

    if not arch["heads"]:
        return None
    heads = [ConsistencyHead(n_features, arch["head_clusters"]) for _ in range(arch["heads"])]
    return ConsensusHead(heads, n_clusters)


def _dmae_architecture(est) -> dict:
    from .dmae import _PROFILES
    from .nn.conv import ConvEncoder

    encoder = est.module_.autoencoder.encoder
    mixture = est.module_.mixture
    return {
        "autoencoder": est.autoencoder,
        "hidden_dims": list(est.hidden_dims or _PROFILES[est.profile]["hidden_dims"]),
        "latent_dim": int(est._resolved_latent_dim()),
        "image_shape": list(encoder.image_shape) if isinstance(encoder, ConvEncoder) else None,
        "n_clusters": mixture.n_clusters,
        "mixture_features": mixture.n_features,
        "alpha": mixture.alpha,
        "precision_log_det": mixture.precision_log_det,
        **_heads_architecture(est.module_.head),
    }


def _dmae_build(est, arch: dict) -> dict[str, nn.Module]:
    from .dissimilarities import get_dissimilarity
    from .dmae import DMAEModule
    from .nn.autoencoders import build_autoencoder
    from .nn.mixture import DissimilarityMixture

    autoencoder = build_autoencoder(
        arch["autoencoder"],
        est.n_features_in_,
        hidden_dims=tuple(arch["hidden_dims"]),
        latent_dim=arch["latent_dim"],
        image_shape=None if arch["image_shape"] is None else tuple(arch["image_shape"]),
    )
    mixture = DissimilarityMixture(
        arch["n_clusters"],
        arch["mixture_features"],
        get_dissimilarity(est.dissimilarity, est.dissimilarity_params),
        arch["alpha"],
        precision_log_det=arch["precision_log_det"],
    )
    head = _consensus_head(arch["mixture_features"], arch["n_clusters"], arch)
    return {"module_": DMAEModule(autoencoder, mixture, head)}


def _dmae_attach(est) -> None:
    est.encoder_ = est.module_.autoencoder.encoder


def _unwrap_encoder(encoder: nn.Module) -> nn.Module:
    from .training.adversarial import VariationalEncoder

    return encoder.body if isinstance(encoder, VariationalEncoder) else encoder


def _mcdc_architecture(est) -> dict:
    from .mcdc import _PROFILES
    from .nn.conv import ConvEncoder

    profile = _PROFILES[est.profile]
    conv = isinstance(_unwrap_encoder(est.module_.encoder), ConvEncoder)
    return {
        "autoencoder": "conv" if conv else "mlp",
        "hidden_dims": list(est.hidden_dims or profile["hidden_dims"]),
        "latent_dim": int(est.latent_mean_.shape[0]),
        "depth": int(est.depth or profile["depth"]),
        "variational": bool(est.variational),
        **_heads_architecture(est.head_),
    }


def _mcdc_build(est, arch: dict) -> dict[str, nn.Module]:
    from .mcdc import _build_networks

    module, critic = _build_networks(
        est.n_features_in_,
        kind=arch["autoencoder"],
        image_shape=est.image_shape_,
        hidden_dims=tuple(arch["hidden_dims"]),
        latent_dim=arch["latent_dim"],
        depth=arch["depth"],
        variational=arch["variational"],
    )
    modules = {"module_": module, "critic_": critic}
    head = _consensus_head(arch["latent_dim"], est.n_clusters, arch)
    if head is not None:
        modules["head_"] = head
    return modules


def _mcdc_attach(est) -> None:
    est.encoder_ = est.module_.encoder


# Kept explicit and small on purpose: load() only ever instantiates these classes.
_KINDS: dict[str, _Kind] = {
    "DMAEClustering": _Kind(
        module=".dmae",
        modules=("module_",),
        attributes=(
            "labels_",
            "cluster_centers_",
            "mixing_weights_",
            "precisions_",
            "head_objectives_",
            "head_pretrain_epoch_",
            "n_iter_",
        ),
        histories=("pretrain_history_", "distillation_history_"),
        architecture=_dmae_architecture,
        build=_dmae_build,
        attach=_dmae_attach,
    ),
    "MCDCClustering": _Kind(
        module=".mcdc",
        modules=("module_", "critic_", "head_"),
        attributes=(
            "labels_",
            "cluster_centers_",
            "head_objectives_",
            "head_pretrain_epoch_",
            "latent_mean_",
            "latent_components_",
            "latent_scale_",
            "image_shape_",
            "n_iter_",
        ),
        histories=("pretrain_history_",),
        architecture=_mcdc_architecture,
        build=_mcdc_build,
        attach=_mcdc_attach,
    ),
}


def _estimator_class(name: str) -> type:
    return getattr(importlib.import_module(_KINDS[name].module, __package__), name)


# ---- save --------------------------------------------------------------------------------------
def save(estimator, path: str | os.PathLike) -> None:
    """Write a fitted estimator to ``path`` as a zip of a JSON manifest and tensors.

    The file is written next to ``path`` under a temporary name and renamed at the end, so an
    existing file is only replaced by a complete one.

    Parameters
    ----------
    estimator : DMAEClustering or MCDCClustering
        A fitted estimator.
    path : str or path-like
        Destination file (any extension; ``.skdc`` is a good one).

    Raises
    ------
    ValueError
        If a parameter (e.g. a callable ``dissimilarity``, your own autoencoder modules, skorch
        ``callbacks``) or fitted attribute has no JSON or array form; pickle or joblib such
        models instead.
    TypeError
        If ``estimator`` is not a skdeepclust estimator this module knows.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    """
    name = type(estimator).__name__
    if name not in _KINDS or type(estimator) is not _estimator_class(name):
        raise TypeError(
            f"save() writes {' and '.join(_KINDS)} models, not {type(estimator).__qualname__}; "
            "use pickle or joblib for other estimators."
        )
    check_is_fitted(estimator)
    if is_custom_autoencoder(estimator.autoencoder):
        # load() rebuilds modules from the manifest, and a user's module class is code.
        raise ValueError(
            f"Cannot save {name}: its autoencoder holds your own torch modules, whose classes a "
            "JSON manifest cannot describe. Save this model with pickle or joblib instead (and "
            "load such files only from sources you trust)."
        )
    kind = _KINDS[name]
    tensors: dict[str, torch.Tensor] = {}

    def encoded(field: str, value: Any) -> Any:
        try:
            return _encode(value, field, tensors)
        except _NotStorable as exc:
            raise ValueError(
                f"Cannot save {name}: {field}={value!r} is {exc}, which has no JSON form. "
                "Save this model with pickle or joblib instead (and load such files only from "
                "sources you trust)."
            ) from None

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skdeepclust_version": _package_version(),
        "torch_version": torch.__version__,
        "sklearn_version": sklearn.__version__,
        "estimator": name,
        "params": {
            key: encoded(f"params.{key}", value)
            for key, value in estimator.get_params(deep=False).items()
        },
        "n_features_in_": int(estimator.n_features_in_),
        "attributes": {
            attr: encoded(f"attributes.{attr}", getattr(estimator, attr))
            for attr in kind.attributes
        },
        "architecture": kind.architecture(estimator),
        "modules": list(kind.modules),
    }
    if hasattr(estimator, "feature_names_in_"):
        manifest["feature_names_in_"] = [str(f) for f in estimator.feature_names_in_]
    for attr in kind.modules:
        module = getattr(estimator, attr, None)
        # An optional module (MCDC's head_) that the fit did not train is absent from the file.
        for key, tensor in ({} if module is None else module.state_dict()).items():
            tensors[f"{attr}/{key}"] = tensor.detach().cpu()

    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".skdc-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            archive.writestr(_MANIFEST, json.dumps(manifest, indent=1, allow_nan=False))
            archive.writestr(_TENSORS, buffer.getvalue())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _package_version() -> str:
    from . import __version__

    return __version__


# ---- load --------------------------------------------------------------------------------------
class _InvalidFile(ValueError):
    """A file that is not a readable skdeepclust model."""


def _read(path: str) -> tuple[dict, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if not {_MANIFEST, _TENSORS} <= names:
                raise _InvalidFile(f"{path} is a zip file without {_MANIFEST} and {_TENSORS}")
            manifest = json.loads(archive.read(_MANIFEST))
            payload = archive.read(_TENSORS)
    except zipfile.BadZipFile:
        raise _InvalidFile(f"{path} is not a zip file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _InvalidFile(f"the manifest of {path} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _InvalidFile(f"{path} has no skdeepclust manifest")
    return manifest, payload


def load(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Read an estimator written by :func:`save`.

    Nothing in the file is executed: the manifest is parsed as JSON, the estimator is one of
    the known classes built from its parameters, and the tensors are read with
    ``torch.load(..., weights_only=True)``.

    Parameters
    ----------
    path : str or path-like
    device : str or torch.device, default="cpu"
        Where to put the weights: "cpu", "cuda", "cuda:1", ... or "auto". It becomes the
        loaded estimator's ``device`` parameter (the ``device`` it was trained with stays in
        the manifest), so a model trained on a GPU loads and predicts on a CPU-only machine.

    Returns
    -------
    DMAEClustering or MCDCClustering
        Fitted, with ``net_`` and the ``*_history_`` attributes set to None (histories are not
        saved).

    Raises
    ------
    ValueError
        If the file is not a skdeepclust model, was written in another format version, or is
        inconsistent (e.g. weights that do not fit the architecture in its manifest), or if
        ``device`` names an unavailable GPU.
    """
    path = os.fspath(path)
    try:
        return _load(path, device)
    except _InvalidFile as exc:
        raise ValueError(f"Cannot load a skdeepclust model: {exc}.") from None


def _target_device(device) -> torch.device:
    """The torch device that ``device`` (as the estimators' ``device`` parameter) names."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        target = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={device!r} is not a torch device.") from None
    if target.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available.")
    return target


def _load(path: str, device):
    manifest, payload = _read(path)
    version = manifest.get("format_version")
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise _InvalidFile(
            f"{path} has format_version={version!r} (written by skdeepclust "
            f"{manifest.get('skdeepclust_version', '?')}), but this skdeepclust "
            f"({_package_version()}) reads format_version={FORMAT_VERSION} only; load it with "
            "the version that wrote it"
        )
    name = manifest.get("estimator")
    if not isinstance(name, str) or name not in _KINDS:
        raise _InvalidFile(f"unknown estimator {name!r}; expected one of {sorted(_KINDS)}")
    kind = _KINDS[name]
    target = _target_device(device)
    try:
        tensors = torch.load(io.BytesIO(payload), weights_only=True, map_location=target)
    except Exception as exc:
        raise _InvalidFile(f"its tensors cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(tensors, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()
    ):
        raise _InvalidFile("its tensor payload is not a dict of tensors")

    cls = _estimator_class(name)
    params = _decode_fields(manifest.get("params"), tensors)
    if set(params) != set(cls().get_params(deep=False)):
        raise _InvalidFile(f"its parameters do not match those of {name}")
    params["device"] = device
    estimator = cls(**params)
    estimator.n_features_in_ = manifest.get("n_features_in_")
    if not isinstance(estimator.n_features_in_, int):
        raise _InvalidFile("n_features_in_ is missing")
    if "feature_names_in_" in manifest:
        estimator.feature_names_in_ = np.asarray(manifest["feature_names_in_"], dtype=object)
    attributes = _decode_fields(manifest.get("attributes"), tensors)
    if set(attributes) != set(kind.attributes):
        raise _InvalidFile(f"its fitted attributes do not match those of {name}")
    for attr, value in attributes.items():
        setattr(estimator, attr, value)

    architecture = manifest.get("architecture")
    # Building initialises weights randomly; fork the RNG so loading leaves the caller's alone.
    with torch.random.fork_rng(devices=[]):
        try:
            modules = kind.build(estimator, architecture)
        except (KeyError, TypeError, ValueError) as exc:
            raise _InvalidFile(f"its architecture cannot be rebuilt ({exc})") from None
    for attr in kind.modules:
        if attr not in modules:
            setattr(estimator, attr, None)
    for attr, module in modules.items():
        prefix = f"{attr}/"
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        module.to(target)
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise _InvalidFile(
                f"the weights of {attr} do not fit the architecture rebuilt from its manifest "
                f"({exc})"
            ) from None
        setattr(estimator, attr, module.eval())
    kind.attach(estimator)
    for attr in ("net_", *kind.histories):
        setattr(estimator, attr, None)
    return estimator
