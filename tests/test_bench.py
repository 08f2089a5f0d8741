"""skdeepclust.bench: the runner behind ``python -m skdeepclust bench``.

Every test swaps the dataset registry for three well-separated blobs of 60 points, so nothing is
downloaded and each fit takes milliseconds.
"""

import csv
import math
import re
import sys
import types

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from skdeepclust import DMAEClustering, bench
from skdeepclust import __main__ as cli

SEEDS = [0, 1]
METRICS = ("acc", "nmi", "ari", "fit_s", "predict_s", "peak_mb")
COLUMNS = ["dataset", "model", "runs"]
COLUMNS += [f"{m}_{s}" for m in METRICS for s in ("median", "mean", "std")] + ["errors"]


def _blobs3():
    X, y = make_blobs(60, centers=[[-6, 0], [6, 0], [0, 8]], cluster_std=0.5, random_state=0)
    return X.astype(np.float32), y


class _Failing:
    """An estimator whose fit raises."""

    def fit(self, X):
        raise RuntimeError("boom")


@pytest.fixture
def tiny(monkeypatch):
    """Only the tiny dataset, plus a tiny DMAE and two failing models in the registry."""
    monkeypatch.setattr(bench, "DATASETS", {"blobs3": _blobs3})
    tiny_dmae = bench._dmae(
        hidden_dims=(8,), latent_dim=2, pretrain_epochs=1, epochs=1, n_neighbors=5, n_init=1
    )
    monkeypatch.setitem(bench.MODELS, "tiny-dmae", bench.Model("Tiny DMAE", tiny_dmae))
    monkeypatch.setitem(
        bench.MODELS, "failing", bench.Model("Failing", lambda k, s, b: _Failing())
    )

    def fails_with_seed_0(k, seed, budget):
        return _Failing() if seed == 0 else KMeans(k, n_init=1, random_state=seed)

    monkeypatch.setitem(bench.MODELS, "flaky", bench.Model("Flaky", fails_with_seed_0))


@pytest.fixture
def fits(monkeypatch):
    """Records the arguments and the result of every ``_fit_once``."""
    calls = []
    fit_once = bench._fit_once

    def spy(model, X, y, k, seed, budget):
        result = fit_once(model, X, y, k, seed, budget)
        calls.append(dict(model=model.name, n=len(X), k=k, seed=seed, budget=budget, **result))
        return result

    monkeypatch.setattr(bench, "_fit_once", spy)
    return calls


def _assert_failed(row, runs, errors):
    assert row["runs"] == runs
    assert row["errors"] == errors
    for key in COLUMNS[3:-1]:
        assert math.isnan(row[key]), key  # never a zero


# ---- run_benchmark ----------------------------------------------------------------------------
def test_run_benchmark_summarises_each_model_over_the_seeds(tiny, fits):
    models = ["kmeans", "gmm", "tiny-dmae"]
    rows = bench.run_benchmark(["blobs3"], models, SEEDS, progress=False)

    names = ["KMeans", "GaussianMixture", "Tiny DMAE"]
    assert [(r["dataset"], r["model"]) for r in rows] == [("blobs3", n) for n in names]
    assert [(c["model"], c["seed"]) for c in fits] == [(n, s) for n in names for s in SEEDS]
    assert all(c["n"] == 60 and c["k"] == 3 and c["budget"] == "quick" for c in fits)
    for row in rows:
        assert list(row) == COLUMNS
        assert row["runs"] == "2/2" and row["errors"] == ""
        for key in ("acc", "nmi", "ari"):
            for stat in ("median", "mean"):
                assert 0 <= row[f"{key}_{stat}"] <= 1
        assert row["fit_s_median"] > 0 and row["predict_s_median"] > 0
        assert np.isfinite(row["peak_mb_median"])
        # Each cell summarises exactly this model's per-seed values.
        for key in METRICS:
            values = [c[key] for c in fits if c["model"] == row["model"]]
            assert row[f"{key}_median"] == pytest.approx(np.median(values))
            assert row[f"{key}_mean"] == pytest.approx(np.mean(values))
            assert row[f"{key}_std"] == pytest.approx(np.std(values))
    kmeans = rows[0]
    for key in ("acc", "nmi", "ari"):  # the blobs are 12 standard deviations apart
        assert kmeans[f"{key}_median"] > 0.99
        assert kmeans[f"{key}_std"] == pytest.approx(0, abs=1e-12)


class _Labels:
    """Perfect clusters, except with seed 2: everything in one cluster."""

    def __init__(self, seed):
        self.seed = seed

    def fit(self, X):
        self.labels_ = _blobs3()[1] if self.seed != 2 else np.zeros(len(X), dtype=int)
        return self


def test_median_and_mean_are_distinct_statistics(tiny, monkeypatch):
    monkeypatch.setitem(bench.MODELS, "fake", bench.Model("Fake", lambda k, s, b: _Labels(s)))
    (row,) = bench.run_benchmark(["blobs3"], ["fake"], [0, 1, 2], progress=False)
    assert row["runs"] == "3/3"
    acc = [1.0, 1.0, 1 / 3]
    assert row["acc_median"] == pytest.approx(1.0)
    assert row["acc_mean"] == pytest.approx(np.mean(acc))
    assert row["acc_std"] == pytest.approx(np.std(acc))
    assert math.isnan(row["predict_s_median"])  # no predict method: no predict time


def test_budget_is_passed_to_the_model_factories(tiny, fits):
    bench.run_benchmark(["blobs3"], ["kmeans"], [3], budget="paper", progress=False)
    assert [(c["seed"], c["budget"]) for c in fits] == [(3, "paper")]
    paper = bench.MODELS["dmae"].make(4, 7, "paper")
    quick = bench.MODELS["dmae"].make(4, 7, "quick")
    assert isinstance(paper, DMAEClustering)
    assert (paper.n_clusters, paper.random_state, paper.profile) == (4, 7, "paper")
    assert quick.profile == "default"
    # An explicit profile of a model is not overridden by the budget.
    assert bench.MODELS["dmae-paper"].make(4, 7, "quick").profile == "paper"


def test_failed_fits_are_reported_not_averaged_as_zeros(tiny, fits):
    rows = bench.run_benchmark(["blobs3"], ["failing", "flaky"], SEEDS, progress=False)
    failing, flaky = rows
    _assert_failed(failing, "0/2", "RuntimeError: boom")  # the same message only once
    # One seed failed: the row summarises the other, the failure is listed.
    assert flaky["runs"] == "1/2" and flaky["errors"] == "RuntimeError: boom"
    (run,) = (c for c in fits if c["model"] == "Flaky")
    assert run["seed"] == 1
    for key in ("acc", "nmi", "ari"):
        assert flaky[f"{key}_median"] == flaky[f"{key}_mean"] == run[key] > 0.99
        assert flaky[f"{key}_std"] == 0


def test_long_error_messages_are_truncated(tiny, monkeypatch):
    class Verbose:
        def fit(self, X):
            raise ValueError("x" * 1000)

    monkeypatch.setitem(bench.MODELS, "verbose", bench.Model("Verbose", lambda k, s, b: Verbose()))
    (row,) = bench.run_benchmark(["blobs3"], ["verbose"], [0], progress=False)
    assert row["errors"].startswith("ValueError: xxx") and len(row["errors"]) == 200


def test_models_over_max_samples_are_skipped(tiny, fits, monkeypatch):
    capped = bench.Model("Capped", bench.MODELS["kmeans"].make, max_samples=59)
    roomy = bench.Model("Roomy", bench.MODELS["kmeans"].make, max_samples=60)
    monkeypatch.setitem(bench.MODELS, "capped", capped)
    monkeypatch.setitem(bench.MODELS, "roomy", roomy)
    capped_row, roomy_row = bench.run_benchmark(
        ["blobs3"], ["capped", "roomy"], SEEDS, progress=False
    )
    _assert_failed(capped_row, "0/2", "skipped: n > 59")
    assert roomy_row["runs"] == "2/2" and roomy_row["errors"] == ""
    assert {c["model"] for c in fits} == {"Roomy"}  # the capped model was never fitted


def test_extra_models_are_skipped_without_their_package(tiny, fits, monkeypatch):
    asked = []
    monkeypatch.setattr(bench, "_importable", lambda name: asked.append(name) or False)
    models = ["umap-kmeans", "umap-gmm", "n2d", "clustpy-dec", "clustpy-idec", "kmeans"]
    rows = bench.run_benchmark(["blobs3"], models, SEEDS, progress=False)
    assert set(asked) == {"umap", "clustpy"}
    for row in rows[:3]:
        _assert_failed(row, "0/2", "skipped: umap-learn not installed")
    for row in rows[3:5]:
        _assert_failed(row, "0/2", "skipped: clustpy not installed")
    assert rows[5]["runs"] == "2/2"  # the other models still run
    assert {c["model"] for c in fits} == {"KMeans"}


def test_clustpy_peers_fit_through_clustpy_when_installed(monkeypatch):
    calls = []

    class FakeDEC:
        def __init__(self, **params):
            calls.append(params)

        def fit(self, X):
            calls.append(X.dtype)
            self.labels_ = np.zeros(len(X), dtype=int)
            return self

    deep = types.ModuleType("clustpy.deep")
    deep.DEC = FakeDEC
    package = types.ModuleType("clustpy")
    package.deep = deep
    monkeypatch.setitem(sys.modules, "clustpy", package)
    monkeypatch.setitem(sys.modules, "clustpy.deep", deep)
    estimator = bench.MODELS["clustpy-dec"].make(3, 7, "quick")
    labels = estimator.fit(np.ones((5, 2))).labels_
    assert calls == [dict(n_clusters=3, random_state=7, device="cpu"), np.float32]
    assert labels.shape == (5,)


def test_progress_prints_each_row_as_it_finishes(tiny, capsys):
    rows = bench.run_benchmark(["blobs3"], ["kmeans", "failing"], [0], progress=True)
    printed = capsys.readouterr().out.splitlines()
    # The table line of each row, not the error line under the failed one.
    assert printed == [bench.format_table(rows).splitlines()[i] for i in (2, 3)]


def test_multi_line_errors_keep_the_table_and_progress_intact(tiny, monkeypatch, capsys):
    class Torchy:
        def fit(self, X):
            raise RuntimeError("shape mismatch:\n  expected [3] | got [4]")

    monkeypatch.setitem(bench.MODELS, "torchy", bench.Model("Torchy", lambda k, s, b: Torchy()))
    (row,) = bench.run_benchmark(["blobs3"], ["torchy"], [0], progress=True)
    assert row["errors"] == "RuntimeError: shape mismatch: expected [3] | got [4]"
    lines = bench.format_table([row]).splitlines()
    assert len(lines) == 4  # 9 cells on every line: unescaped "|" separate them
    assert all(len(re.split(r"(?<!\\)\|", line)) == 9 + 2 for line in lines)
    assert "expected [3] \\| got [4]" in lines[3]
    assert capsys.readouterr().out.splitlines() == [lines[2]]  # the row, not its error


# ---- format_table -----------------------------------------------------------------------------
def _row(model, runs, errors="", **values):
    row = {"dataset": "blobs3", "model": model, "runs": runs}
    for key in METRICS:
        for stat in ("median", "mean", "std"):
            row[f"{key}_{stat}"] = values.get(f"{key}_{stat}", float("nan"))
    row["errors"] = errors
    return row


def test_format_table_is_markdown_with_error_lines():
    ok = _row(
        "KMeans",
        "2/2",
        **dict(acc_median=0.95, acc_mean=0.94, acc_std=0.01),
        **dict(nmi_median=0.9, nmi_mean=0.9, nmi_std=0.0),
        **dict(ari_median=0.875, ari_mean=0.8, ari_std=0.1),
        **dict(fit_s_median=1.26, fit_s_mean=1.5, fit_s_std=0.5),
        predict_s_median=0.0123,
        peak_mb_median=12.6,
    )
    flaky = _row("Flaky", "1/2", "RuntimeError: boom", acc_median=0.5, acc_mean=0.5, acc_std=0)
    failed = _row("Failing", "0/2", "RuntimeError: boom")
    lines = bench.format_table([ok, flaky, failed]).splitlines()

    assert lines[0] == "| dataset | model | runs | ACC | NMI | ARI | fit s | predict s | peak MB |"
    assert lines[1] == "|---|---|---|---|---|---|---|---|---|"
    assert len(lines) == 2 + 3 + 2  # a line per row, an error line under each failure
    assert all(len(line.split("|")) == 9 + 2 for line in lines)  # 9 cells on every line
    cells = [c.strip() for c in lines[2].split("|")[1:-1]]
    assert cells == [
        "blobs3",
        "KMeans",
        "2/2",
        "0.950 (0.940 ± 0.010)",
        "0.900 (0.900 ± 0.000)",
        "0.875 (0.800 ± 0.100)",
        "1.3 (1.5 ± 0.5)",
        "0.01",
        "13",
    ]
    assert lines[3].startswith("| blobs3 | Flaky | 1/2 | 0.500 (0.500 ± 0.000) | - | - | - |")
    assert lines[4].strip("| ").split(" | ")[0] == "↳ RuntimeError: boom"
    assert lines[5] == "| blobs3 | Failing | 0/2 | - | - | - | - | - | - |"
    assert "↳ RuntimeError: boom" in lines[6]
    assert bench.format_table([]).splitlines() == lines[:2]


# ---- the command line -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "program, command",
    [
        ("/site-packages/skdeepclust/__main__.py", "python -m skdeepclust bench"),
        ("benchmarks/bench_dmae.py", "python benchmarks/bench_dmae.py"),
    ],
    ids=["module", "script"],
)
def test_cli_writes_markdown_csv_and_figure(tiny, tmp_path, monkeypatch, capsys, program, command):
    out = tmp_path / "results"
    argv = ["bench", "--datasets", "blobs3", "--models", "kmeans,failing", "--seeds", "2"]
    argv += ["--out", str(out)]
    # The scripts in benchmarks/ parse their arguments without the "bench" subcommand.
    shown = argv if command.endswith("bench") else argv[1:]
    monkeypatch.setattr(sys, "argv", [program, *shown])
    assert cli.main(argv) == 0

    markdown = (out / "results.md").read_text()
    header, table = markdown.split("\n\n")
    assert f"Command: `{command} --datasets blobs3" in header
    assert "CPU cores" in header and "torch" in header
    lines = table.splitlines()
    assert lines[0].startswith("| dataset | model | runs | ACC |")
    assert lines[2].startswith("| blobs3 | KMeans | 2/2 | 1.000 (1.000 ± 0.000) |")
    assert lines[3].startswith("| blobs3 | Failing | 0/2 | - |")
    assert "↳ RuntimeError: boom" in lines[4] and len(lines) == 5
    assert table in capsys.readouterr().out

    with open(out / "results.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        kmeans, failing = list(reader)
    assert (kmeans["dataset"], kmeans["model"], kmeans["runs"]) == ("blobs3", "KMeans", "2/2")
    assert float(kmeans["acc_median"]) > 0.99 and float(kmeans["fit_s_mean"]) > 0
    assert kmeans["errors"] == ""
    assert (failing["model"], failing["runs"], failing["errors"]) == (
        "Failing",
        "0/2",
        "RuntimeError: boom",
    )
    assert all(math.isnan(float(failing[key])) for key in COLUMNS[3:-1])

    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    plt.close("all")  # main leaves its figure open
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_defaults_name_registered_datasets_and_models():
    import argparse

    parser = argparse.ArgumentParser()
    bench.add_parser(parser.add_subparsers())
    args = parser.parse_args(["bench"])
    assert args.func is bench.main
    assert (args.seeds, args.budget, args.out) == (3, "quick", "bench-results")
    assert set(args.datasets.split(",")) <= set(bench.DATASETS)
    assert set(args.models.split(",")) <= set(bench.MODELS)
    assert set(bench._EXTRAS) <= set(bench.MODELS)


# ---- datasets ---------------------------------------------------------------------------------
def test_unknown_dataset_names_the_choices():
    with pytest.raises(ValueError, match="Unknown dataset 'nope'") as info:
        bench.load_benchmark_dataset("nope")
    assert all(repr(name) in str(info.value) for name in bench.DATASETS)


def test_bundled_dataset_loads_without_download():
    X, y = bench.load_benchmark_dataset("moons")
    assert X.shape == (1000, 2) and X.dtype == np.float32
    assert sorted(np.unique(y)) == [0, 1]


def test_unknown_model_or_dataset_fails_before_any_fit():
    with pytest.raises(ValueError, match=r"Unknown models or datasets.*'nope'.*kmeans"):
        bench.run_benchmark(["digits"], ["nope"], [0], progress=False)
