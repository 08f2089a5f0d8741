"""Torch modules of skdeepclust: the autoencoder builders and the dissimilarity mixture layer."""
