"""Training machinery: batch-indexed data loading and the skorch nets of each phase.

Nothing here knows about scikit-learn estimators; the estimators in
:mod:`skdeepclust.dmae` and :mod:`skdeepclust.mcdc` compose these pieces.
"""
