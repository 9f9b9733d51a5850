"""Training callbacks (Keras-style ``on_*`` hooks), run by the Solver in a fixed order.

See :mod:`numnet.callbacks.base` for the hooks and the order table. Callbacks see the training
loop through the :class:`~numnet.callbacks.trainer.Trainer` protocol and never import the Solver
(which imports them).
"""

from numnet.callbacks.base import Callback, CallbackList
from numnet.callbacks.checkpoint import Checkpoint, EpochCheckpoint
from numnet.callbacks.confusion import confusion_matrix, plot_confusion_matrix
from numnet.callbacks.early_stopping import EarlyStopping
from numnet.callbacks.metrics_csv import MetricsCSV
from numnet.callbacks.plateau import ReduceLROnPlateau
from numnet.callbacks.plots import Plots, plot_history
from numnet.callbacks.progress import PrintLog, ProgressBar
from numnet.callbacks.trainer import Trainer

__all__ = [
    "Callback",
    "CallbackList",
    "Checkpoint",
    "EarlyStopping",
    "EpochCheckpoint",
    "MetricsCSV",
    "Plots",
    "PrintLog",
    "ProgressBar",
    "ReduceLROnPlateau",
    "Trainer",
    "confusion_matrix",
    "plot_confusion_matrix",
    "plot_history",
]
