"""skdeepclust: scikit-learn compatible deep clustering.

Estimators
----------
DMAEClustering
    Dissimilarity Mixture Autoencoder (Lara & González).
MCDCClustering
    Mixing Consistent Deep Clustering (Lutscher et al.), with its ACAI, IDEC and VAE variants.

Submodules: :mod:`skdeepclust.metrics` (Hungarian accuracy, NMI, ARI, scorers),
:mod:`skdeepclust.datasets`, :mod:`skdeepclust.dissimilarities`, :mod:`skdeepclust.neighbors`,
:mod:`skdeepclust.plotting` (needs matplotlib).
"""

import importlib

__version__ = "0.1.0"

# Estimators load on first access so that `import skdeepclust.metrics` stays light.
_LAZY = {"DMAEClustering": ".dmae", "MCDCClustering": ".mcdc"}

__all__ = ["DMAEClustering", "MCDCClustering", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
