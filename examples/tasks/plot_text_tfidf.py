"""
Clustering text: sparse tf-idf documents
========================================

Documents as tf-idf vectors are sparse, high-dimensional and compared by angle rather than
length. :class:`~skdeepclust.DMAEClustering` takes scipy sparse matrices directly: a deep model
reads them one batch at a time and never densifies the whole matrix.

The example uses Reuters-10K (:func:`skdeepclust.datasets.load_reuters10k`) if it is already
cached locally, and otherwise a small synthetic corpus written below, so that it needs no
download.
"""

# %%
import os

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer

from skdeepclust import DMAEClustering
from skdeepclust.datasets import load_reuters10k
from skdeepclust.metrics import cluster_report
from skdeepclust.plotting import plot_confusion

SMOKE = os.environ.get("SKDEEPCLUST_SMOKE") == "1"  # a few-second run for tests and docs

# %%
# A synthetic corpus
# ------------------
# Four topics, each with its own vocabulary, and a vocabulary every document draws from. Each
# short document mixes words of its topic with words of another topic and common words, so
# that the topics overlap.
TOPICS = {
    "sport": "match goal team coach season league player score referee stadium victory "
    "championship tournament striker defender penalty",
    "finance": "market stock bank investor shares profit interest inflation bond trading "
    "dividend currency earnings quarter revenue loan",
    "science": "research experiment cell protein physics laboratory theory molecule gene "
    "telescope particle climate data study hypothesis species",
    "cooking": "recipe oven flour butter garlic sauce simmer onion salt pepper bake dough "
    "pasta spice roast dessert",
}
COMMON = (
    "the year new people time report week today says first last day world group public "
    "plan early local national major"
).split()


def synthetic_corpus(n_documents, rng):
    """Documents of 8 to 20 words: 30 % of their topic, 15 % of another one, the rest common."""
    names = list(TOPICS)
    labels = rng.randint(len(names), size=n_documents)
    documents = []
    for label in labels:
        other = rng.choice([k for k in range(len(names)) if k != label])
        n_words = rng.randint(8, 21)
        draw = rng.rand(n_words)
        words = np.where(
            draw < 0.3,
            rng.choice(TOPICS[names[label]].split(), n_words),
            np.where(
                draw < 0.45,
                rng.choice(TOPICS[names[other]].split(), n_words),
                rng.choice(COMMON, n_words),
            ),
        )
        documents.append(" ".join(words))
    return documents, labels, names


# %%
# Data
# ----
n_documents = 200 if SMOKE else 2000
try:
    reuters = load_reuters10k(download_if_missing=False, n_samples=n_documents)
    X, y, names = reuters.data, reuters.target, list(reuters.target_names)
    print("Reuters-10K subset:", X.shape)
except OSError:  # not cached: fitting on RCV1 would first download 650 MB
    documents, y, names = synthetic_corpus(n_documents, np.random.RandomState(0))
    X = TfidfVectorizer(sublinear_tf=True).fit_transform(documents)
    print("synthetic corpus:", X.shape, "e.g.:", documents[0][:70], "...")
print(f"{type(X).__name__}, {X.nnz / np.prod(X.shape):.1%} non-zero")

# %%
# Fit
# ---
# The tf-idf rows have unit length, so the euclidean nearest neighbours of the pretraining
# graph are also the nearest by angle (cosine), and the encoder learns codes whose euclidean
# distances reflect them. KMeans on the tf-idf vectors is the baseline.
est = DMAEClustering(
    n_clusters=len(names),
    pretrain_epochs=2 if SMOKE else 10,
    epochs=1 if SMOKE else 3,
    random_state=0,
).fit(X)
kmeans = KMeans(len(names), n_init=10, random_state=0).fit(X)
for name, labels in [("DMAE", est.labels_), ("KMeans on tf-idf", kmeans.labels_)]:
    report = cluster_report(y, labels)
    print(f"{name:17s} ACC {report['accuracy']:.3f}  NMI {report['nmi']:.3f}")
fig = plot_confusion(y, est.labels_, class_names=names)
