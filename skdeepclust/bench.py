"""Benchmark runner behind ``python -m skdeepclust bench`` and the scripts in ``benchmarks/``.

Every model is fitted on the same data with several seeds; the table reports the median and
mean +- std of ACC / NMI / ARI, fit and predict seconds and the peak memory growth of the fit.
A failed fit is reported as failed, never averaged in as zeros.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from .metrics import cluster_report

__all__ = ["DATASETS", "MODELS", "format_table", "load_benchmark_dataset", "run_benchmark"]


# ---- datasets ---------------------------------------------------------------------------------
def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


def _fashion(n=None):
    def load():
        from .datasets import load_fashion_mnist

        X, y = load_fashion_mnist(return_X_y=True)
        if n is not None:
            idx = np.random.RandomState(0).permutation(len(X))[:n]
            X, y = X[idx], y[idx]
        return X, y

    return load


def _standardised(loader):
    def load():
        X, y = loader(return_X_y=True)
        return StandardScaler().fit_transform(X).astype(np.float32), y

    return load


def _synthetic(name, **params):
    def load():
        from . import datasets

        X, y = getattr(datasets, name)(random_state=0, **params)
        return X.astype(np.float32), y

    return load


def _two_moons():
    from sklearn.datasets import make_moons

    X, y = make_moons(1000, noise=0.05, random_state=0)
    return X.astype(np.float32), y


def _sklearn_loader(name):
    import sklearn.datasets

    return getattr(sklearn.datasets, name)


DATASETS: dict[str, Callable] = {
    "digits": _digits,
    "fashion-mnist": _fashion(),
    "fashion-mnist-10k": _fashion(10_000),
    "wine": _standardised(_sklearn_loader("load_wine")),
    "breast-cancer": _standardised(_sklearn_loader("load_breast_cancer")),
    "blobs8": _synthetic("make_blobs8"),
    "pinwheel": _synthetic("make_pinwheel"),
    # Two rings (radius 0.5 and 1), and the DMAE authors' circles (a ring around a disc of
    # radius 0.1), on which the paper's random-Fourier-feature initialisation works.
    "circles": _synthetic("make_two_circles", factor=0.5, noise=0.05),
    "circles-dmae": _synthetic("make_two_circles"),
    "moons": _two_moons,
}


def load_benchmark_dataset(name: str):
    """Return ``(X, y)`` of a benchmark dataset by name (see :data:`DATASETS`)."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose from {sorted(DATASETS)}.")
    return DATASETS[name]()


# ---- models -----------------------------------------------------------------------------------
@dataclass
class Model:
    """A named factory ``make(n_clusters, seed, budget) -> estimator`` with ``fit``/``predict``."""

    name: str
    make: Callable
    max_samples: int | None = None  # skip on larger data (memory or time would blow up)


def _deep(estimator: str, **kw):
    """Factory of a skdeepclust estimator; ``--budget paper`` selects its paper profile."""

    def make(k, seed, budget):
        import skdeepclust

        params = dict(kw)
        if budget == "paper":
            params.setdefault("profile", "paper")
        return getattr(skdeepclust, estimator)(n_clusters=k, random_state=seed, **params)

    return make


def _dmae(**kw):
    return _deep("DMAEClustering", **kw)


def _mcdc(**kw):
    return _deep("MCDCClustering", **kw)


class _UMAPThen:
    """UMAP to 10 dimensions, then a clusterer (benchmark extra: umap-learn)."""

    def __init__(self, k, seed, then):
        self.k, self.seed, self.then = k, seed, then

    def fit(self, X):
        import umap

        Z = umap.UMAP(n_components=10, random_state=self.seed).fit_transform(X)
        if self.then == "kmeans":
            self.labels_ = KMeans(self.k, n_init=10, random_state=self.seed).fit_predict(Z)
        else:
            self.labels_ = GaussianMixture(self.k, random_state=self.seed).fit_predict(Z)
        return self


def _umap(then):
    return lambda k, seed, budget: _UMAPThen(k, seed, then)


class _N2D:
    """N2D (McConville et al.): an autoencoder, UMAP of its codes, then a Gaussian mixture.

    The autoencoder is DMAE's paper-profile MLP pretrained on reconstruction; UMAP uses N2D's
    settings (``n_clusters`` dimensions, 20 neighbours, ``min_dist=0``). Benchmark extra.
    """

    def __init__(self, k, seed):
        self.k, self.seed = k, seed

    def fit(self, X):
        import umap

        from .dmae import DMAEClustering

        autoencoder = DMAEClustering(self.k, profile="paper", epochs=0, random_state=self.seed)
        codes = autoencoder.fit(X).transform(X)
        embedding = umap.UMAP(
            n_components=self.k, n_neighbors=20, min_dist=0.0, random_state=self.seed
        ).fit_transform(codes)
        mixture = GaussianMixture(self.k, covariance_type="full", random_state=self.seed)
        self.labels_ = mixture.fit_predict(embedding)
        return self


class _ClustPy:
    """A deep clustering method of ClustPy with its defaults (benchmark extra, never a dependency).

    ClustPy's estimators take the data as float32 rows and set ``labels_``; they run on the CPU
    here like skdeepclust, so that the fit times compare.
    """

    def __init__(self, k, seed, method):
        self.k, self.seed, self.method = k, seed, method

    def fit(self, X):
        import clustpy.deep

        estimator = getattr(clustpy.deep, self.method)(
            n_clusters=self.k, random_state=self.seed, device="cpu"
        )
        self.labels_ = estimator.fit(np.asarray(X, dtype=np.float32)).labels_
        return self


def _clustpy(method):
    return lambda k, seed, budget: _ClustPy(k, seed, method)


MODELS: dict[str, Model] = {
    "dmae": Model("DMAE (defaults)", _dmae()),
    "dmae-paper": Model("DMAE (paper profile)", _dmae(profile="paper")),
    "dmae-head": Model("DMAE head='consistency'", _dmae(head="consistency")),
    "dmae-mixture": Model("DMAE head='mixture'", _dmae(head="mixture")),
    "dmae-noft": Model("DMAE epochs=0 (pretrain + KMeans)", _dmae(epochs=0)),
    # Ablations of the default profile's ingredients, one at a time.
    "dmae-nograph": Model(
        "DMAE pretrain='autoencoder' (no graph loss)", _dmae(pretrain="autoencoder")
    ),
    "dmae-noaug": Model("DMAE augmentation=False", _dmae(augmentation=False)),
    "dmae-norec": Model("DMAE lambda_r=0 (no reconstruction)", _dmae(lambda_r=0.0)),
    "dmae-noguard": Model("DMAE scale_guard=False", _dmae(scale_guard=False)),
    "dmae-mahalanobis": Model("DMAE mahalanobis", _dmae(dissimilarity="mahalanobis")),
    "dmae-cosine": Model("DMAE cosine", _dmae(dissimilarity="cosine")),
    "dmae-manhattan": Model("DMAE manhattan", _dmae(dissimilarity="manhattan")),
    "ae-kmeans": Model("AE + KMeans", _dmae(profile="paper", epochs=0)),
    # The DMAE paper's synthetic experiments: shallow DMMs (alpha 100 on the blobs, 10 on the
    # pinwheel) and the random-Fourier-feature initialisation for two circles.
    **{
        f"shallow-{name}": Model(
            f"shallow DMAE {name}", _dmae(autoencoder=None, alpha=100.0, **params)
        )
        for name, params in {
            "minkowski-1": dict(dissimilarity="minkowski", dissimilarity_params={"p": 1}),
            "euclidean": dict(dissimilarity="euclidean"),
            "minkowski-3": dict(dissimilarity="minkowski", dissimilarity_params={"p": 3}),
            "chebyshev": dict(dissimilarity="chebyshev"),
        }.items()
    },
    "shallow-mahalanobis": Model(
        "shallow DMAE mahalanobis (alpha 10)",
        _dmae(autoencoder=None, alpha=10.0, dissimilarity="mahalanobis"),
    ),
    "dmae-rff": Model("DMAE pretrain='rff'", _dmae(pretrain="rff")),
    "dmae-rff-paper": Model(
        "DMAE pretrain='rff', the paper's setting",
        _dmae(
            pretrain="rff",
            rff_gamma=10.0,
            dissimilarity="mahalanobis",
            alpha=1000.0,
            latent_dim=100,
            hidden_dims=(256, 256),
            lr=1e-5,
            epochs=80,
        ),
    ),
    "mcdc": Model("MCDC (defaults)", _mcdc()),
    "mcdc-paper": Model("MCDC (paper profile)", _mcdc(profile="paper")),
    "mcdc-head": Model("MCDC head='consistency'", _mcdc(head="consistency")),
    "mcdc-kmeans": Model("MCDC head='kmeans'", _mcdc(head="kmeans")),
    "acai": Model("ACAI (mixing_weight=0)", _mcdc(profile="paper", mixing_weight=0.0)),
    "mcdc-idec": Model("MCDC+IDEC", _mcdc(profile="paper", clustering_loss="idec")),
    "mcdc-vae": Model("MCDC+VAE", _mcdc(profile="paper", variational=True)),
    "kmeans": Model("KMeans", lambda k, s, b: KMeans(k, n_init=10, random_state=s)),
    "gmm": Model("GaussianMixture", lambda k, s, b: GaussianMixture(k, random_state=s)),
    "ward": Model("Ward", lambda k, s, b: AgglomerativeClustering(k), max_samples=20_000),
    "spectral": Model(
        "Spectral (nearest neighbours)",
        lambda k, s, b: SpectralClustering(
            k, affinity="nearest_neighbors", random_state=s, n_jobs=1
        ),
        max_samples=10_000,
    ),
    "umap-kmeans": Model("UMAP(10) + KMeans", _umap("kmeans")),
    "umap-gmm": Model("UMAP(10) + GMM", _umap("gmm")),
    "n2d": Model("N2D (AE + UMAP + GMM)", lambda k, seed, budget: _N2D(k, seed)),
    # Another library's methods, side by side when it is installed.
    "clustpy-dec": Model("ClustPy DEC (its defaults)", _clustpy("DEC")),
    "clustpy-idec": Model("ClustPy IDEC (its defaults)", _clustpy("IDEC")),
    "clustpy-dcn": Model("ClustPy DCN (its defaults)", _clustpy("DCN")),
}


# Models that need a package outside skdeepclust's dependencies: key -> (module, pip name).
_EXTRAS = {
    **{key: ("umap", "umap-learn") for key in ("umap-kmeans", "umap-gmm", "n2d")},
    **{key: ("clustpy", "clustpy") for key in ("clustpy-dec", "clustpy-idec", "clustpy-dcn")},
}


# ---- running ----------------------------------------------------------------------------------
class _PeakRSS:
    """Peak resident memory growth during a block, sampled from /proc every 20 ms.

    tracemalloc would see torch's allocations only partly and slows Python-heavy training
    loops several-fold; sampling the RSS costs nothing measurable. NaN where /proc is missing.
    """

    def __enter__(self):
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    @staticmethod
    def _rss() -> float:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            return float("nan")

    @property
    def growth(self) -> float:
        return self.peak - self.start


def _fit_once(model: Model, X, y, k: int, seed: int, budget: str) -> dict:
    est = model.make(k, seed, budget)
    with _PeakRSS() as memory:
        start = time.perf_counter()
        est.fit(X)
        fit_s = time.perf_counter() - start
    peak = memory.growth
    # GaussianMixture has no labels_: its training labels come from predict.
    labels = est.labels_ if hasattr(est, "labels_") else est.predict(X)
    predict_s = float("nan")
    if hasattr(est, "predict"):
        start = time.perf_counter()
        est.predict(X)
        predict_s = time.perf_counter() - start
    report = cluster_report(y, labels)
    return dict(
        acc=report["accuracy"],
        nmi=report["nmi"],
        ari=report["ari"],
        fit_s=fit_s,
        predict_s=predict_s,
        peak_mb=peak / 2**20,
    )


def run_benchmark(
    datasets: list[str],
    models: list[str],
    seeds: list[int],
    *,
    budget: str = "quick",
    progress: bool = True,
) -> list[dict]:
    """Fit every model on every dataset with every seed; return one summary row per pair."""
    from tqdm.auto import tqdm

    unknown = [m for m in models if m not in MODELS] + [d for d in datasets if d not in DATASETS]
    if unknown:
        raise ValueError(
            f"Unknown models or datasets {unknown}; models: {sorted(MODELS)}, datasets: "
            f"{sorted(DATASETS)}."
        )
    rows = []
    jobs = [(d, m) for d in datasets for m in models]
    bar = tqdm(total=len(jobs) * len(seeds), disable=not progress, desc="bench")
    for dataset in datasets:
        X, y = load_benchmark_dataset(dataset)
        k = len(np.unique(y))
        for key in models:
            model = MODELS[key]
            runs, errors = [], []
            for seed in seeds:
                bar.set_postfix_str(f"{dataset} / {model.name} / seed {seed}")
                if model.max_samples is not None and len(X) > model.max_samples:
                    errors.append(f"skipped: n > {model.max_samples}")
                elif key in _EXTRAS and not _importable(_EXTRAS[key][0]):
                    errors.append(f"skipped: {_EXTRAS[key][1]} not installed")
                else:
                    try:
                        runs.append(_fit_once(model, X, y, k, seed, budget))
                    except Exception as exc:  # a benchmark reports failures, it does not stop
                        # One line: a multi-line message would break the table rows.
                        message = " ".join(f"{type(exc).__name__}: {exc}".split())
                        errors.append(message[:200])
                bar.update()
            rows.append(_summarise(dataset, model.name, runs, errors, len(seeds)))
            if progress:  # partial results survive an interrupted run
                bar.write(format_table(rows[-1:]).splitlines()[-1 - bool(errors)])
    bar.close()
    return rows


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _summarise(dataset, name, runs, errors, n_seeds) -> dict:
    row = {"dataset": dataset, "model": name, "runs": f"{len(runs)}/{n_seeds}"}
    for key in ("acc", "nmi", "ari", "fit_s", "predict_s", "peak_mb"):
        values = np.array([r[key] for r in runs], dtype=float)
        row[f"{key}_median"] = float(np.median(values)) if len(values) else float("nan")
        row[f"{key}_mean"] = float(values.mean()) if len(values) else float("nan")
        row[f"{key}_std"] = float(values.std()) if len(values) else float("nan")
    row["errors"] = "; ".join(sorted(set(errors)))
    return row


def format_table(rows: list[dict]) -> str:
    """Markdown table: median (mean +- std) of each metric."""
    head = "| dataset | model | runs | ACC | NMI | ARI | fit s | predict s | peak MB |"
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        cells = [r["dataset"], r["model"], r["runs"]]
        for key, fmt in (("acc", ".3f"), ("nmi", ".3f"), ("ari", ".3f"), ("fit_s", ".1f")):
            if np.isnan(r[f"{key}_median"]):
                cells.append("-")
            else:
                median, mean, std = (r[f"{key}_{s}"] for s in ("median", "mean", "std"))
                cells.append(f"{median:{fmt}} ({mean:{fmt}} ± {std:{fmt}})")
        cells.append("-" if np.isnan(r["predict_s_median"]) else f"{r['predict_s_median']:.2f}")
        cells.append("-" if np.isnan(r["peak_mb_median"]) else f"{r['peak_mb_median']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
        if r["errors"]:
            errors = r["errors"].replace("|", "\\|")  # a "|" would end the Markdown cell
            lines.append(f"| | ↳ {errors} | | | | | | | |")
    return "\n".join(lines)


def _header(argv_line: str, cells: str = "Cells: median (mean ± std) over seeds.") -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = "unknown"
    import torch

    return (
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads). "
        f"Commit: {commit or 'unknown'}. "
        f"Command: `{argv_line}`. {cells}"
    )


# --budget quick: digits, the DMAE paper's synthetic sets and two small tabular sets, 3 seeds.
QUICK = {
    "datasets": [
        "digits",
        "blobs8",
        "pinwheel",
        "circles",
        "circles-dmae",
        "moons",
        "wine",
        "breast-cancer",
    ],
    "models": ["dmae", "mcdc", "kmeans", "gmm", "ward", "spectral", "umap-kmeans"],
}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("bench", help="benchmark skdeepclust against its peers")
    p.add_argument("--datasets", default=",".join(QUICK["datasets"]))
    p.add_argument("--models", default=",".join(QUICK["models"]))
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    p.add_argument("--budget", choices=["quick", "paper"], default="quick")
    p.add_argument("--out", default="bench-results")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import sys

    rows = run_benchmark(
        args.datasets.split(","),
        args.models.split(","),
        list(range(args.seeds)),
        budget=args.budget,
    )
    # ``python -m skdeepclust`` runs as __main__.py, the scripts in benchmarks/ as themselves.
    script = sys.argv[0]
    program = "python -m skdeepclust" if script.endswith("__main__.py") else f"python {script}"
    header = _header(" ".join([program, *sys.argv[1:]]))
    table = format_table(rows)
    print(header + "\n\n" + table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(header + "\n\n" + table + "\n")
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    try:
        from .plotting import plot_benchmark
    except ImportError:
        return 0
    plot_benchmark(rows).savefig(out / "results.png", dpi=120, bbox_inches="tight")
    return 0
