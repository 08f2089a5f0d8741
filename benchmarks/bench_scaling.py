"""How fit and predict time grow with the number of samples (Fashion-MNIST subsets).

For each size n the script fits ``DMAEClustering(n_clusters=10)`` twice on the first n rows of
a fixed permutation of Fashion-MNIST's 70,000 images: with its defaults (automatic epoch
budgets, which shrink as n grows) and with a fixed budget (``pretrain_epochs=1, epochs=1``),
whose time per sample shows whether one pass over the data costs O(n). It also times the
k-nearest-neighbour graph alone, and ``predict`` on all 70,000 images with each fitted model.
Peak memory is the growth of the resident set during the fit.

Prints a Markdown table and the log-log slope of each time against n (1 = linear), and writes
``scaling.csv``, ``scaling.md`` and the log-log plot ``scaling.png`` into ``--out``.

Usage::

    python benchmarks/bench_scaling.py                          # 1k, 5k, 20k, 70k
    python benchmarks/bench_scaling.py --sizes 1000,5000 --out /tmp/scaling
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from skdeepclust import DMAEClustering
from skdeepclust.bench import _header, _PeakRSS, load_benchmark_dataset
from skdeepclust.metrics import cluster_report
from skdeepclust.neighbors import neighbor_graph

BUDGETS = {"defaults": {}, "fixed (1+1 epochs)": {"pretrain_epochs": 1, "epochs": 1}}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def measure(X, y, X_all, seed: int) -> list[dict]:
    rows = []
    _, knn_s = timed(lambda: neighbor_graph(X, 15))
    for budget, params in BUDGETS.items():
        est = DMAEClustering(n_clusters=10, random_state=seed, **params)
        with _PeakRSS() as memory:
            _, fit_s = timed(lambda est=est: est.fit(X))
        _, predict_s = timed(lambda est=est: est.predict(X_all))
        report = cluster_report(y, est.labels_)
        rows.append(
            dict(
                n=len(X),
                budget=budget,
                epochs=f"{len(est.pretrain_history_)}+{est.n_iter_}",
                acc=report["accuracy"],
                nmi=report["nmi"],
                knn_s=knn_s,
                fit_s=fit_s,
                fit_us_per_sample=1e6 * fit_s / len(X),
                predict_s=predict_s,
                predict_per_s=len(X_all) / predict_s,
                peak_mb=memory.growth / 2**20,
            )
        )
        print(format_rows(rows[-1:]).splitlines()[-1], flush=True)
    return rows


def format_rows(rows: list[dict]) -> str:
    lines = [
        "| n | budget | epochs | ACC | NMI | kNN graph s | fit s | fit µs/sample | "
        "predict 70k s | predict samples/s | peak MB |",
        "|" + "---|" * 11,
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['budget']} | {r['epochs']} | {r['acc']:.3f} | {r['nmi']:.3f} | "
            f"{r['knn_s']:.1f} | {r['fit_s']:.1f} | {r['fit_us_per_sample']:.0f} | "
            f"{r['predict_s']:.2f} | {r['predict_per_s']:,.0f} | {r['peak_mb']:.0f} |"
        )
    return "\n".join(lines)


def slopes(rows: list[dict]) -> str:
    """Least-squares slope of log(time) on log(n): 1 means linear growth."""
    lines = []
    for budget in BUDGETS:
        sub = [r for r in rows if r["budget"] == budget]
        if len(sub) < 2:
            continue
        log_n = np.log([r["n"] for r in sub])
        parts = [
            f"{key} {np.polyfit(log_n, np.log([r[key] for r in sub]), 1)[0]:.2f}"
            for key in ("fit_s", "peak_mb")
            if all(r[key] > 0 for r in sub)
        ]
        lines.append(f"log-log slope vs n, {budget}: " + ", ".join(parts))
    knn = [r for r in rows if r["budget"] == next(iter(BUDGETS))]
    if len(knn) >= 2:
        slope = np.polyfit(np.log([r["n"] for r in knn]), np.log([r["knn_s"] for r in knn]), 1)
        lines.append(f"log-log slope vs n, kNN graph: {slope[0]:.2f}")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for budget in BUDGETS:
        sub = [r for r in rows if r["budget"] == budget]
        ax.loglog([r["n"] for r in sub], [r["fit_s"] for r in sub], "o-", label=f"fit, {budget}")
    first = [r for r in rows if r["budget"] == next(iter(BUDGETS))]
    n = [r["n"] for r in first]
    ax.loglog(n, [r["knn_s"] for r in first], "s--", label="kNN graph alone")
    ax.loglog(n, [r["predict_s"] for r in first], "^:", label="predict 70k")
    ref = np.array([n[0], n[-1]], dtype=float)
    ax.loglog(ref, first[0]["fit_s"] * ref / ref[0], color="grey", lw=0.8, label="slope 1")
    ax.set_xlabel("training samples n")
    ax.set_ylabel("seconds")
    ax.set_title("DMAEClustering on Fashion-MNIST subsets")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.savefig(path, dpi=120, bbox_inches="tight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000,70000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench-results/scaling")
    args = parser.parse_args()
    X_all, y_all = load_benchmark_dataset("fashion-mnist")
    order = np.random.RandomState(0).permutation(len(X_all))
    rows = []
    print(format_rows([]))
    for n in (int(s) for s in args.sizes.split(",")):
        idx = order[:n]
        rows += measure(X_all[idx], y_all[idx], X_all, args.seed)
    import sys

    text = "\n\n".join(
        [
            _header("python " + " ".join(sys.argv), f"One seed ({args.seed})."),
            format_rows(rows),
            slopes(rows),
        ]
    )
    print("\n" + text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scaling.md").write_text(text + "\n")
    with open(out / "scaling.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, out / "scaling.png")


if __name__ == "__main__":
    main()
