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

With ``threads_per_worker > 1`` give each worker ``cores // (workers * threads)`` torch
threads instead. The recipe is in ``docs/reliability.rst``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from joblib import parallel_backend
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV, KFold

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
GRID = {"alpha": [1.0, 1000.0], "dissimilarity": ["euclidean", "cosine"]}


def _search(n_jobs: int) -> GridSearchCV:
    return GridSearchCV(ESTIMATOR, GRID, cv=KFold(2, shuffle=True, random_state=0), n_jobs=n_jobs)


def test_dask_grid_search_matches_sequential():
    X, _ = make_blobs(120, centers=3, n_features=4, cluster_std=0.5, random_state=0)
    sequential = _search(n_jobs=1).fit(X)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(torch.set_num_threads, 1)
        assert set(client.run(torch.get_num_threads).values()) == {1}
        with parallel_backend("dask"):
            search = _search(n_jobs=2).fit(X)
    assert search.best_params_ == sequential.best_params_
    # Seeded fits on CPU: the same scores up to float32 rounding in another process.
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
        rtol=1e-4,
    )
    np.testing.assert_array_equal(
        search.best_estimator_.labels_, sequential.best_estimator_.labels_
    )
