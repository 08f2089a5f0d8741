"""DMAEClustering next to KMeans, GaussianMixture, AE + KMeans and UMAP + KMeans.

Usage::

    python benchmarks/bench_dmae.py --datasets digits --seeds 5
    python benchmarks/bench_dmae.py --datasets fashion-mnist --seeds 3 \
        --models dmae,dmae-head,kmeans
    python benchmarks/bench_dmae.py --datasets blobs8,pinwheel,circles,moons,wine,breast-cancer

Prints a Markdown table (median (mean ± std) over seeds) and writes it with a CSV to ``--out``.
"""

import argparse
import sys

from skdeepclust import bench

DEFAULT_MODELS = (
    "dmae,dmae-noft,dmae-paper,ae-kmeans,dmae-mahalanobis,kmeans,gmm,umap-kmeans,umap-gmm"
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="digits")
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", choices=["quick", "paper"], default="quick")
    parser.add_argument("--out", default="bench-results/dmae")
    args = parser.parse_args()
    sys.exit(bench.main(args))
