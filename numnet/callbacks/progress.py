"""Progress display: a tqdm ProgressBar for terminals, and PrintLog (CS231n-style text lines).

On a terminal the bars redraw themselves in place, so anything printed the ordinary way is drawn
over by the next redraw. :class:`ProgressBar` therefore writes its one line per epoch (the same
line :func:`epoch_line` gives for logs) through ``tqdm.write``, which clears the bars, prints the
line and draws the bars again below it: every epoch's numbers stay on screen.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from numnet.callbacks.base import Callback
from numnet.callbacks.trainer import Trainer


def _is_tty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):
        return False


def epoch_line(record: dict[str, Any], num_epochs: int) -> str:
    """One epoch's numbers as a line: ``epoch   3/10  loss 0.2345  train acc 0.9310  val acc ...``.

    ``lr`` and ``seconds`` are shown when the record has them. ``train acc`` is whatever the
    trainer measured (the Solver: a sample of ``num_train_samples`` training rows).
    """
    lr = record.get("lr")
    lr_text = f"  lr {lr:.2e}" if lr is not None else ""
    seconds = record.get("seconds")
    time_text = f"  {seconds:.1f}s" if seconds is not None else ""
    return (
        f"epoch {record['epoch']:>3}/{num_epochs}  loss {record['train_loss']:.4f}  "
        f"train acc {record['train_acc']:.4f}  val acc {record['val_acc']:.4f}{lr_text}{time_text}"
    )


class ProgressBar(Callback):
    """tqdm bars over epochs and over the batches of the current epoch, with loss/accuracy and ETA.

    After each epoch it writes :func:`epoch_line` above the bars (``tqdm.write``), so on a terminal
    the line of every epoch stays on screen instead of being drawn over.

    Disabled (draws nothing) when ``quiet=True`` or when the output stream is not a terminal, so
    logs and CI output stay clean. ``enabled`` tells which, once training has begun.

    Parameters
    ----------
    quiet : bool
        Never draw.
    file : text stream, optional
        Where to draw; defaults to ``sys.stdout`` at train begin.
    """

    order = 80

    def __init__(self, quiet: bool = False, file: IO[str] | None = None) -> None:
        self.quiet = quiet
        self.file = file
        self.enabled = False
        self._epoch_bar: Any = None
        self._batch_bar: Any = None

    def on_train_begin(self, solver: Trainer) -> None:
        stream = self.file if self.file is not None else sys.stdout
        self.enabled = not self.quiet and _is_tty(stream)
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        self._tqdm = tqdm
        self._stream = stream
        self._epoch_bar = tqdm(
            total=solver.num_epochs, initial=solver.epoch, desc="epochs", unit="epoch", file=stream
        )

    def on_epoch_begin(self, solver: Trainer) -> None:
        if not self.enabled:
            return
        self._batch_bar = self._tqdm(
            total=solver.iterations_per_epoch,
            desc=f"epoch {solver.epoch + 1}",
            unit="batch",
            leave=False,
            file=self._stream,
        )

    def on_batch_end(self, solver: Trainer) -> None:
        if self._batch_bar is None:
            return
        self._batch_bar.update(1)
        if solver.iteration % 10 == 0:
            self._batch_bar.set_postfix(loss=f"{solver.loss_history[-1]:.4f}", refresh=False)

    def on_epoch_end(self, solver: Trainer) -> None:
        if not self.enabled:
            return
        if self._batch_bar is not None:
            self._batch_bar.close()
            self._batch_bar = None
        record = solver.history[-1]
        self._tqdm.write(epoch_line(record, solver.num_epochs), file=self._stream)
        self._epoch_bar.update(1)
        self._epoch_bar.set_postfix(
            loss=f"{record['train_loss']:.4f}",
            train_acc=f"{record['train_acc']:.4f}",
            val_acc=f"{record['val_acc']:.4f}",
        )

    def on_train_end(self, solver: Trainer) -> None:
        if self.enabled and solver.stop_training and not solver.diverged:
            line = f"stopped early after epoch {solver.epoch}/{solver.num_epochs}"
            self._tqdm.write(line, file=self._stream)
        for bar in (self._batch_bar, self._epoch_bar):
            if bar is not None:
                bar.close()
        self._batch_bar = None
        self._epoch_bar = None


class PrintLog(Callback):
    """CS231n Solver's text output: the loss every ``print_every`` iterations, accuracies per epoch.

    The Solver adds one when ``verbose=True`` and no ProgressBar was given.
    """

    order = 70

    def __init__(self, print_every: int = 10, file: IO[str] | None = None) -> None:
        self.print_every = max(1, int(print_every))
        self.file = file

    def _print(self, text: str) -> None:
        print(text, file=self.file if self.file is not None else sys.stdout, flush=True)

    def on_batch_end(self, solver: Trainer) -> None:
        if (solver.iteration - 1) % self.print_every == 0:
            self._print(
                f"(Iteration {solver.iteration} / {solver.num_iterations}) "
                f"loss: {solver.loss_history[-1]:f}"
            )

    def on_epoch_end(self, solver: Trainer) -> None:
        record = solver.history[-1]
        self._print(
            f"(Epoch {solver.epoch} / {solver.num_epochs}) train acc: {record['train_acc']:f}; "
            f"val_acc: {record['val_acc']:f}"
        )

    def on_train_end(self, solver: Trainer) -> None:
        if solver.diverged:
            self._print(f"(Iteration {solver.iteration}) loss is not finite: training diverged")
        elif solver.stop_training:
            self._print(f"(Epoch {solver.epoch} / {solver.num_epochs}) stopped early")
