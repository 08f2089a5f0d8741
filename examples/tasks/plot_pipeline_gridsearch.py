"""
Pipelines and grid search
=========================

:class:`~skdeepclust.DMAEClustering` is a scikit-learn estimator, so it goes into a
:class:`~sklearn.pipeline.Pipeline` and :class:`~sklearn.model_selection.GridSearchCV` like any
other. Clustering has no held-out labels to predict, so the "cross-validation" here fits and
scores on the same samples: ``cv=[(idx, idx)]`` is a single split whose training and test sets
are all the data.

Two ways to score:

- with labels, for benchmarking: :data:`skdeepclust.metrics.accuracy_scorer` (the
  unsupervised accuracy after the Hungarian matching; ``nmi_scorer`` and ``ari_scorer`` exist
  too);
- without labels, for real use: the estimator's own ``score``, the negative mean squared error
  between each sample and its cluster's prototype in the input space, which compares any
  ``alpha`` and dissimilarity on the same scale.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skdeepclust import DMAEClustering
from skdeepclust.metrics import accuracy_scorer
from skdeepclust.plotting import plot_accuracy_vs_alpha

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

X, y = load_wine(return_X_y=True)  # 178 wines, 13 chemical measurements, 3 cultivars

pipeline = Pipeline(
    [
        ("scale", MinMaxScaler()),
        (
            "dmae",
            DMAEClustering(
                n_clusters=3,
                hidden_dims=(32, 32),
                latent_dim=5,
                pretrain_epochs=2 if SMOKE else 10,
                epochs=1 if SMOKE else 5,
                random_state=0,
            ),
        ),
    ]
)
alphas = [1.0, 1e4] if SMOKE else [1.0, 100.0, 1e4]
dissimilarities = ["euclidean"] if SMOKE else ["euclidean", "manhattan", "cosine"]
param_grid = {"dmae__alpha": alphas, "dmae__dissimilarity": dissimilarities}
all_samples = np.arange(len(X))

# %%
# With labels
# -----------
search = GridSearchCV(
    pipeline, param_grid, scoring=accuracy_scorer, cv=[(all_samples, all_samples)]
)
search.fit(X, y)
print("best by accuracy:", search.best_params_, f"ACC {search.best_score_:.3f}")

# %%
# Without labels
# --------------
# ``scoring=None`` uses ``Pipeline.score``, i.e. the DMAE's label-free score on the scaled
# data; ``y`` is not needed.
unsupervised = GridSearchCV(pipeline, param_grid, cv=[(all_samples, all_samples)]).fit(X)
print("best by score:   ", unsupervised.best_params_)


# %%
# Both criteria per dissimilarity and alpha: the accuracy with
# :func:`~skdeepclust.plotting.plot_accuracy_vs_alpha`, the label-free score next to it.
def by_dissimilarity(search):
    """Mean test score as {dissimilarity: [score per alpha]}."""
    results = search.cv_results_
    curves = {}
    for dissimilarity in dissimilarities:
        curves[dissimilarity] = [
            results["mean_test_score"][i]
            for alpha in alphas
            for i, params in enumerate(results["params"])
            if params == {"dmae__alpha": alpha, "dmae__dissimilarity": dissimilarity}
        ]
    return curves


fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
plot_accuracy_vs_alpha(alphas, by_dissimilarity(search), ax=axes[0])
for dissimilarity, scores in by_dissimilarity(unsupervised).items():
    axes[1].plot(alphas, scores, marker="o", label=dissimilarity)
axes[1].set_xscale("log")
axes[1].set_xlabel(r"inverse temperature $\alpha$")
axes[1].set_ylabel("score (negative prototype MSE)")
axes[1].set_title("label-free score")
axes[1].legend()
