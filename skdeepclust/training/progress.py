"""One progress bar per training phase (``verbose=1``)."""

from __future__ import annotations

from skorch.callbacks import Callback
from tqdm.auto import tqdm

__all__ = ["PhaseProgressBar"]


class PhaseProgressBar(Callback):
    """A single bar over all the batches of a phase, with the phase's name and last loss.

    skorch's :class:`~skorch.callbacks.ProgressBar` draws one bar per epoch. The heads and the
    graph step floor run phases of a hundred epochs of a few batches each on small data, whose
    bars flood logs and give no estimate of when the phase ends; this bar counts every batch
    of the phase against ``max_epochs`` times the batches of an epoch.

    Parameters
    ----------
    phase : str
        Shown at the left of the bar.
    """

    def __init__(self, phase: str):
        self.phase = phase

    def _total(self, net, X) -> int | None:
        try:
            per_epoch = len(net.get_iterator(net.get_dataset(X), training=True))
        except TypeError:  # an iterator without a length: the bar just counts
            return None
        return net.max_epochs * per_epoch

    def on_train_begin(self, net, X=None, y=None, **kwargs) -> None:
        self.bar_ = tqdm(total=self._total(net, X), desc=self.phase, unit="batch", leave=False)

    def on_batch_end(self, net, batch=None, training=None, **kwargs) -> None:
        if not training:
            return
        self.bar_.update()
        loss = net.history[-1, "batches", -1].get("train_loss")
        if loss is not None:
            self.bar_.set_postfix(loss=f"{loss:.4g}", refresh=False)

    def on_train_end(self, net, X=None, y=None, **kwargs) -> None:
        self.bar_.close()

    def __getstate__(self) -> dict:
        # A bar holds its output stream, which cannot be pickled; a fitted estimator must be.
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state
