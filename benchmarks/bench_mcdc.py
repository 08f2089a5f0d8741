"""Benchmark MCDCClustering and its variants over several seeds.

Runs the plain autoencoder, ACAI, MCDC, MCDC+IDEC and MCDC+VAE with the same settings and seeds
and prints, per method, the median and mean ± std of ACC, NMI, ARI and the fit time. Failed runs
are reported, not averaged in. ``--head`` chooses what assigns the clusters for every method:
the estimator's default "auto" (the consistency heads on images of 16 pixels a side or more in
the default profile, KMeans otherwise: on the 8 x 8 digits and in the paper profile), "kmeans"
(the paper's) or "consistency".

    python benchmarks/bench_mcdc.py --dataset digits --seeds 0 1 2
    python benchmarks/bench_mcdc.py --dataset digits --profile paper --epochs 30 --lr 1e-3
    python benchmarks/bench_mcdc.py --dataset digits --methods ACAI MCDC --graph-weight 0.1
    python benchmarks/bench_mcdc.py --dataset digits --methods ACAI MCDC --head kmeans
    python benchmarks/bench_mcdc.py --dataset fashion-mnist --n-samples 10000 --methods MCDC

Timings are only comparable on an otherwise idle machine: the load average is printed before
and after the runs.
"""

from __future__ import annotations

import argparse
import os
import time
import traceback

import numpy as np
import torch

from skdeepclust import MCDCClustering
from skdeepclust.metrics import cluster_report

METHODS = {
    "AE": dict(mixing_weight=0.0, lambda_adv=0.0),
    "ACAI": dict(mixing_weight=0.0),
    "MCDC": dict(),
    "MCDC+IDEC": dict(clustering_loss="idec"),
    "MCDC+VAE": dict(variational=True),
}


def load(dataset: str, n_samples: int | None, seed: int = 0):
    if dataset == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        from skdeepclust.datasets import load_fashion_mnist

        X, y = load_fashion_mnist(return_X_y=True)  # flat 784 features in [0, 1]
    if n_samples is not None and n_samples < len(X):
        keep = np.random.default_rng(seed).choice(len(X), n_samples, replace=False)
        X, y = X[keep], y[keep]
    return X.astype(np.float32), np.asarray(y)


def summary(values, digits: int = 3) -> str:
    values = np.asarray(values, dtype=float)
    median, mean, std = np.median(values), values.mean(), values.std()
    return f"{median:6.{digits}f}  {mean:6.{digits}f} ± {std:5.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["digits", "fashion-mnist"], default="digits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", default="auto", help='"auto" or an integer')
    parser.add_argument("--profile", choices=["default", "paper"], default="default")
    parser.add_argument("--lr", type=float, default=None, help="default: the profile's")
    parser.add_argument(
        "--graph-weight", type=float, default=1.0, help="weight of the neighbour-graph term"
    )
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument(
        "--head", choices=["auto", "kmeans", "consistency"], default="auto", help="what assigns"
    )
    parser.add_argument("--n-samples", type=int, default=None, help="random subset size")
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs == "auto" else int(args.epochs)

    X, y = load(args.dataset, args.n_samples)
    n_clusters = len(np.unique(y))
    print(
        f"{args.dataset}: {X.shape[0]} x {X.shape[1]}, {n_clusters} classes; profile "
        f"{args.profile!r}, epochs {epochs!r}, lr {args.lr or 'auto'}, graph weight "
        f"{args.graph_weight}, head {args.head!r}, seeds {args.seeds}\n"
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} torch threads"
    )
    rows = []
    for name in args.methods:
        scores, failures = [], []
        for seed in args.seeds:
            est = MCDCClustering(
                n_clusters,
                epochs=epochs,
                profile=args.profile,
                lr=args.lr,
                graph_weight=args.graph_weight,
                head=args.head,
                random_state=seed,
                verbose=args.verbose,
                **METHODS[name],
            )
            start = time.perf_counter()
            try:
                est.fit(X)
            except Exception:  # a failed run is reported, never averaged in as zeros
                failures.append(seed)
                traceback.print_exc()
                continue
            seconds = time.perf_counter() - start
            report = cluster_report(y, est.labels_)
            scores.append((report["accuracy"], report["nmi"], report["ari"], seconds))
            print(
                f"  {name:10s} seed {seed}: ACC {report['accuracy']:.3f}  NMI "
                f"{report['nmi']:.3f}  ARI {report['ari']:.3f}  {seconds:6.1f} s",
                flush=True,
            )
        rows.append((name, np.array(scores).reshape(-1, 4), failures))

    header = "median  mean ± std  "
    print(
        f"\n{'method':10s} | {'ACC ' + header:22s}| {'NMI ' + header:22s}| "
        f"{'ARI ' + header:22s}| fit seconds"
    )
    for name, scores, failures in rows:
        if len(scores) == 0:
            print(f"{name:10s} | all runs failed (seeds {failures})")
            continue
        cells = " | ".join(summary(scores[:, i], 3 if i < 3 else 1) for i in range(4))
        note = f"  ({len(failures)} failed: seeds {failures})" if failures else ""
        print(f"{name:10s} | {cells}{note}")
    print(f"load average after the runs: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
