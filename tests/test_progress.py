"""verbose=1 draws one progress bar per training phase, and printing changes no result."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from skdeepclust import DMAEClustering, MCDCClustering

X, _ = make_blobs(120, n_features=4, centers=3, random_state=0)
FITS = {
    "dmae": lambda verbose: DMAEClustering(
        n_clusters=3,
        hidden_dims=(16,),
        latent_dim=2,
        pretrain_epochs=3,
        epochs=2,
        head="consistency",
        head_restarts=1,
        n_neighbors=5,
        random_state=0,
        verbose=verbose,
    ),
    "mcdc": lambda verbose: MCDCClustering(
        n_clusters=3,
        autoencoder="mlp",
        hidden_dims=(16,),
        latent_dim=2,
        epochs=3,
        head="kmeans",
        n_neighbors=5,
        random_state=0,
        verbose=verbose,
    ),
}
PHASES = {
    "dmae": ["pretraining", "fine-tuning", "consistency head 1"],
    "mcdc": ["mixing training"],
}


@pytest.mark.parametrize("name", FITS)
def test_one_bar_per_phase_counts_all_its_batches(name, capsys):
    est = FITS[name](1).fit(X)
    err = capsys.readouterr().err
    assert [phase for phase in PHASES[name] if f"{phase}:" in err] == PHASES[name]
    # The last phase's bar counted every batch of its history, against a total known up front.
    bar = dict(est.net_.callbacks_)["progress"].bar_
    batches = sum(len(epoch["batches"]) for epoch in est.net_.history)
    assert bar.n == bar.total == batches > 0


@pytest.mark.parametrize("name", FITS)
def test_printing_changes_no_result(name, capsys, tmp_path):
    quiet, loud = FITS[name](0).fit(X), FITS[name](1).fit(X)
    np.testing.assert_array_equal(quiet.labels_, loud.labels_)
    np.testing.assert_allclose(quiet.transform(X), loud.transform(X))
    assert capsys.readouterr().err  # the loud fit did print
    # ... and it still pickles and saves (the bars' streams are left out).
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(loud)).predict(X), loud.labels_)
    loud.save(tmp_path / "model.skdc")
    np.testing.assert_array_equal(
        type(loud).load(tmp_path / "model.skdc").predict(X), loud.labels_
    )
