"""Command line: ``python -m skdeepclust demo`` and ``python -m skdeepclust bench``."""

from __future__ import annotations

import argparse
import sys
import time

from .bench import add_parser as add_bench_parser


def demo(args: argparse.Namespace) -> int:
    """Cluster scikit-learn's bundled digits with DMAEClustering's defaults."""
    from sklearn.datasets import load_digits

    from skdeepclust import DMAEClustering
    from skdeepclust.metrics import cluster_report

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    print(f"Clustering sklearn digits ({X.shape[0]} x {X.shape[1]}) with DMAEClustering ...")
    start = time.perf_counter()
    est = DMAEClustering(n_clusters=10, random_state=args.seed, verbose=args.verbose).fit(X)
    seconds = time.perf_counter() - start
    report = cluster_report(y, est.labels_)
    print(
        f"ACC {report['accuracy']:.3f}  NMI {report['nmi']:.3f}  ARI {report['ari']:.3f}  "
        f"fit {seconds:.1f} s"
    )
    try:
        from skdeepclust.plotting import plot_latent_space
    except ImportError:
        print("(install matplotlib to get a figure of the latent space)")
        return 0
    fig = plot_latent_space(est, X, y)
    fig.savefig(args.figure, dpi=120, bbox_inches="tight")
    print(f"figure written to {args.figure}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skdeepclust")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="cluster sklearn's digits and print ACC / NMI / seconds")
    p_demo.add_argument("--seed", type=int, default=0)
    p_demo.add_argument("--verbose", type=int, default=0)
    p_demo.add_argument("--figure", default="skdeepclust-demo.png")
    p_demo.set_defaults(func=demo)
    add_bench_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
