"""Grid search over a dask.distributed cluster gives the same result as a sequential one.

Threads per worker: each dask worker is a separate process running one task at a time
(``threads_per_worker=1``), and torch would otherwise start one intra-op thread per core in
every worker, so two workers on two cores would run four busy threads. Two things prevent
that:

- dask's nanny starts each worker process with ``OMP_NUM_THREADS=1`` (and the MKL/OpenBLAS
  equivalents), from the ``distributed.nanny.pre-spawn-environ`` setting; torch reads it at
  import;
- the test calls ``client.run(torch.set_num_threads, 1)``, which runs in every worker and
  also covers a cluster configured without that setting (or workers started by hand), then
  checks ``torch.get_num_threads() == 1`` in each worker.

On a machine with more cores than workers, give each worker ``cores // n_workers`` torch
threads instead, and keep ``threads_per_worker=1``: the torch thread count is per process, so
tasks running side by side in one worker would share (and fight over) the same pool. The
sequential reference runs with one torch thread too, so both searches are bit-identical. The
recipe is in ``docs/reliability.rst``.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from joblib import parallel_backend
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import minmax_scale

from skdeepclust import DMAEClustering

distributed = pytest.importorskip("dask.distributed")

ESTIMATOR = DMAEClustering(
    n_clusters=3,
    hidden_dims=(8,),
    latent_dim=2,
    pretrain_epochs=2,
    epochs=2,
    n_neighbors=5,
    random_state=0,
)
GRID = {"n_clusters": [2, 3], "dissimilarity": ["euclidean", "cosine"]}


def _search(n_jobs: int, n_samples: int) -> GridSearchCV:
    # Deep clustering's transductive protocol (fit and score on the same samples): one split
    # keeps the test short, the worker start-up (importing torch) dominates it anyway.
    everything = np.arange(n_samples)
    return GridSearchCV(ESTIMATOR, GRID, cv=[(everything, everything)], n_jobs=n_jobs)


@pytest.fixture
def one_torch_thread():
    """Run the sequential reference with one torch thread, like the workers, then restore."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_dask_grid_search_matches_sequential(one_torch_thread):
    X, _ = make_blobs(120, centers=3, n_features=4, cluster_std=0.5, random_state=0)
    X = minmax_scale(X)
    sequential = _search(n_jobs=1, n_samples=len(X)).fit(X)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # Hides the nanny's "still alive after 4 s, killing" on slow machines at shutdown.
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(torch.set_num_threads, 1)
        assert set(client.run(torch.get_num_threads).values()) == {1}
        with parallel_backend("dask"):
            search = _search(n_jobs=2, n_samples=len(X)).fit(X)
    assert search.best_params_ == sequential.best_params_
    # Seeded fits on CPU with one thread each: bit-identical in any process.
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(
        search.best_estimator_.labels_, sequential.best_estimator_.labels_
    )
