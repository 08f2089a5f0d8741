"""
Benchmarking against classical clusterers
=========================================

:mod:`skdeepclust.bench` fits every model on every dataset with several seeds and summarises
ACC, NMI and ARI, fit and predict times and peak memory; ``python -m skdeepclust bench`` runs it
from the command line and writes the same figure. A failed or skipped run is reported as such,
never averaged in as zeros: in the figure it has no bar and an "n/a" mark.
"""

# %%
import os

from skdeepclust.bench import format_table, run_benchmark
from skdeepclust.plotting import plot_benchmark

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

if SMOKE:
    datasets, models, seeds = ["moons", "wine"], ["kmeans", "ward"], [0]
else:
    datasets, models, seeds = ["moons", "wine"], ["dmae", "kmeans", "ward", "spectral"], [0, 1]
rows = run_benchmark(datasets, models, seeds, progress=False)

# %%
# The table prints the median (mean ± std) over seeds; the figure shows the mean ± std.
print(format_table(rows))
fig = plot_benchmark(rows)

# %%
# Other metrics are drawn on request; times and memory get a log axis. Ward and spectral
# clustering have no ``predict``, hence "n/a" for their prediction times.
fig = plot_benchmark(rows, metrics=("ari", "predict_s", "peak_mb"))
