"""Solver: the training loop (data -> loss -> update); everything else is a callback.

The constructor accepts CS231n's ``Solver`` keywords unchanged, and fixes its known weaknesses:

* **True epochs.** Every epoch visits a fresh permutation of the training set drawn from a seeded
  ``np.random.Generator``; the last, partial batch is included (``ceil(N / batch_size)`` updates).
* **lr_decay as a schedule.** The learning rate of epoch ``e`` (0-based) is
  ``learning_rate * lr_decay ** e`` (:func:`numnet.optim.schedules.step_decay`), multiplied by an
  ``lr_scale`` that :class:`~numnet.callbacks.ReduceLROnPlateau` lowers.
* **Best model restore** copies back the parameters *and* the batchnorm running statistics
  (``model.buffers``) of the epoch with the best validation accuracy.
* **Exact resume.** :meth:`Solver.state_dict` holds parameters, buffers, optimizer state, the RNG
  states, epoch and iteration counters, histories, callback states and the run configuration;
  ``Solver(..., resume_from=path)`` continues so that the final weights equal (``np.array_equal``)
  an uninterrupted run with the same seed and settings. Checkpoints are per epoch: a run killed in
  the middle of an epoch repeats that epoch from its start. Models with dropout are exact only when
  their dropout generators are reachable (``model.layers[*].rng``; see
  ``numnet.solver_state.model_generators``).
* **Divergence.** With ``check_finite=True`` a NaN/Inf batch loss, or a non-finite parameter or
  optimizer state entry at the end of an epoch, raises :class:`~numnet.errors.TrainingDiverged`
  after the best parameters were restored and ``on_train_end`` ran (so files are closed; no NaN
  is ever written to a checkpoint).

Optimizers
----------
``update_rule`` is one of

* a CS231n rule name (``'sgd'``, ``'sgd_momentum'``, ``'rmsprop'``, ``'adam'``) or a callable
  ``rule(w, dw, config) -> (next_w, config)``; ``optim_config`` is copied into one config per
  parameter as in CS231n, and ``config['learning_rate']`` is set from the schedule before every
  update;
* any other name understood by ``numnet.optim.get_optimizer`` (``'momentum'``, ``'adamw'``, ...),
  built with ``learning_rate = optim_config['learning_rate']`` (or the schedule) and the other
  ``optim_config`` entries as hyperparameters;
* a :class:`numnet.optim.GradientTransformation` (same as ``optimizer=``). A ready-made optimizer
  carries its own learning rate, so ``lr_decay``/``schedule`` cannot be combined with it.

A transformation is run by the fused kernel :mod:`numnet.kernels.flat_update` whenever the model
hands out flat parameters and gradients (a model on its fast kernels) and the kernel has a fused
version of every stage; otherwise by its own pure ``update``. The optimizer state has the same keys
and values either way, so checkpoints resume on either path.

The validation loss is :func:`numnet.functional.losses.softmax_loss` of the test-mode scores.

Data-parallel training
----------------------
With ``comm`` (an mpi4py communicator, e.g. :func:`numnet.distributed.world`) every rank runs the
same Solver on the same data and model; together they compute what one process computes:

* every rank draws the same seeded permutation; ``batch_size`` is the *global* batch, and each
  rank takes its ``np.array_split`` share of it (shares may be uneven or empty);
* each rank's gradient (of the mean loss over its share) is weighted by ``share / batch`` and one
  allreduce over the flat gradient buffer gives every rank the global batch's gradient (the
  regularisation term, in every rank's loss, sums to one copy); every rank applies the same
  update, so the replicas stay identical (parameters are broadcast from rank 0 at the start);
* batch losses, train/validation accuracy and loss are reduced over the ranks; evaluation is
  sharded;
* batch norm (``sync_batchnorm=True``) uses the statistics of the whole global batch
  (:mod:`numnet.nn.sync_batchnorm`), so its running statistics equal one process's; with
  ``sync_batchnorm=False`` each rank normalises with its share's statistics and the running
  statistics are averaged over the ranks (weighted by share) after every step;
* augmentation and dropout draw from per-rank generators derived from the seed, the epoch and the
  rank: runs with them equal a one-process run in distribution, not element for element. Without
  them the result equals one process's up to the order of the floating-point sums;
* the checkpoint state does not depend on the number of ranks: a run resumes with any K.

Callbacks run on every rank they are given to; give the ones that print or write files to rank 0
only, and the ones that change training (early stopping, reduce-on-plateau) to every rank
(``stop_training`` is combined over the ranks at the end of every epoch).
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from numnet import distributed, solver_state
from numnet.callbacks.base import Callback, CallbackList
from numnet.data.validate import check_solver_data
from numnet.errors import ConfigError, TrainingDiverged
from numnet.functional.losses import softmax_loss
from numnet.kernels.flat_update import FlatUpdate, flat_update
from numnet.nn.normalization import set_batchnorm_sync
from numnet.optim.transform import apply_updates
from numnet.serialization import assign_arrays, load_checkpoint

CS231N_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")
CS231N_DEFAULT_LR = {"sgd": 1e-2, "sgd_momentum": 1e-2, "rmsprop": 1e-2, "adam": 1e-3}


def _first_non_finite(state: Any, prefix: str = "") -> str | None:
    """The key of the first non-finite float (array or number) in a nested optimizer state."""
    if isinstance(state, Mapping):
        items: Any = state.items()
    elif isinstance(state, list | tuple):
        items = enumerate(state)
    else:
        kind = getattr(getattr(state, "dtype", None), "kind", None)
        if kind in ("f", "c"):
            return None if bool(np.isfinite(state).all()) else prefix or "entry"
        if isinstance(state, float) and not math.isfinite(state):
            return prefix or "entry"
        return None
    for key, value in items:
        found = _first_non_finite(value, f"{prefix}/{key}" if prefix else str(key))
        if found is not None:
            return found
    return None


def _is_transformation(value: Any) -> bool:
    return hasattr(value, "init") and hasattr(value, "update") and isinstance(value, tuple)


def _model_config(model: Any) -> dict[str, Any]:
    getter = getattr(model, "get_config", None)
    return dict(getter()) if callable(getter) else {"class": type(model).__name__}


def _num_classes(model: Any, config: Mapping[str, Any]) -> int | None:
    value = getattr(model, "num_classes", None)
    if value is None:
        value = config.get("num_classes")
    return int(value) if isinstance(value, int | np.integer) else None


class Solver:
    """Train a classification model with minibatch gradient descent.

    Parameters
    ----------
    model : model
        Has ``params`` (mutable mapping name -> array), optionally ``buffers``, and
        ``loss(X, y=None)`` returning scores ``(N, C)`` or ``(loss, grads)``.
    data : dict
        ``X_train (N, ...)``, ``y_train (N,)``, ``X_val (M, ...)``, ``y_val (M,)``.
    update_rule : str, callable or GradientTransformation
        See the module docstring. Default ``'sgd'`` (CS231n's rule).
    optim_config : dict
        Hyperparameters, e.g. ``{'learning_rate': 1e-3}``.
    lr_decay : float
        Factor applied to the learning rate after every epoch.
    batch_size : int
        Samples per update (the last batch of an epoch may be smaller).
    num_epochs : int
        Epochs to train (a resumed run continues up to this total).
    num_train_samples : int or None
        Training samples used to measure train accuracy each epoch (None: all).
    num_val_samples : int or None
        Validation samples used each epoch (None: all).
    checkpoint_name : str or None
        CS231n's option: save ``{checkpoint_name}_epoch_{e}.npz`` checkpoints every epoch.
    print_every : int
        With ``verbose``, print the loss every this many iterations.
    verbose : bool
        Print CS231n-style progress lines (adds a ``PrintLog`` callback unless a ``ProgressBar`` is
        among ``callbacks``).
    optimizer : GradientTransformation, optional
        A numnet optimizer (overrides ``update_rule``).
    schedule : callable ``step -> lr``, optional
        Learning-rate schedule used instead of ``optim_config['learning_rate']``/``lr_decay``.
    seed : int, optional
        Seeds the permutations, augmentation and accuracy subsampling.
    callbacks : iterable of Callback
        Run in the fixed order of :mod:`numnet.callbacks.base`.
    augment : callable ``(X_batch, rng) -> X_batch``, optional
        Applied to every training batch with the Solver's generator.
    check_finite : bool
        Raise ``TrainingDiverged`` on a NaN/Inf loss, parameter or optimizer state entry.
    resume_from : path, optional
        Checkpoint to continue from (see :meth:`resume`).
    comm : mpi4py communicator, optional
        Train data-parallel over its ranks (see the module docstring); ``None``: one process.
    sync_batchnorm : bool
        With ``comm``: batch norm over the global batch (True) or each rank's share (False).

    Attributes
    ----------
    loss_history, train_acc_history, val_acc_history : list of float
    history : list of dict
        One record per epoch: ``epoch, lr, train_loss, train_acc, val_loss, val_acc, seconds``.
    best_val_acc : float
    best_params, best_buffers : dict of ndarray
    epoch, iteration : int
        Epochs and updates completed.
    stop_training : bool
        Set by a callback to end training after the current epoch.
    improved : bool
        Whether the last finished epoch set a new best validation accuracy.
    comm, rank, num_ranks
        The communicator (or None), this process's rank and the number of ranks (0 and 1
        without ``comm``).
    """

    def __init__(
        self,
        model: Any,
        data: Mapping[str, np.ndarray],
        *,
        update_rule: str | Callable[..., Any] | Any = "sgd",
        optim_config: Mapping[str, Any] | None = None,
        lr_decay: float = 1.0,
        batch_size: int = 100,
        num_epochs: int = 10,
        num_train_samples: int | None = 1000,
        num_val_samples: int | None = None,
        checkpoint_name: str | None = None,
        print_every: int = 10,
        verbose: bool = True,
        optimizer: Any = None,
        schedule: Callable[[int], float] | None = None,
        seed: int | None = None,
        callbacks: Iterable[Callback] = (),
        augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
        check_finite: bool = True,
        resume_from: Any = None,
        comm: Any = None,
        sync_batchnorm: bool = True,
    ) -> None:
        self.model = model
        self.comm = comm
        self.rank = distributed.rank(comm)
        self.num_ranks = distributed.size(comm)
        self._config = _model_config(model)
        check_solver_data(data, _num_classes(model, self._config))
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        if int(batch_size) < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if int(num_epochs) < 0:
            raise ConfigError(f"num_epochs must be >= 0, got {num_epochs}")
        if not lr_decay > 0:
            raise ConfigError(f"lr_decay must be > 0, got {lr_decay}")
        self.batch_size = int(batch_size)
        self.num_epochs = int(num_epochs)
        self.lr_decay = float(lr_decay)
        self.num_train_samples = num_train_samples
        self.num_val_samples = num_val_samples
        self.print_every = print_every
        self.verbose = verbose
        self.augment = augment
        self.check_finite = check_finite
        self.optim_config = dict(optim_config or {})
        self.iterations_per_epoch = math.ceil(self.X_train.shape[0] / self.batch_size)
        self.seed = seed
        entropy = seed
        if comm is not None and seed is None:  # every rank needs the same permutations
            entropy = distributed.broadcast_object(comm, np.random.SeedSequence().entropy)
        self._entropy = entropy
        train_seq, eval_seq = np.random.SeedSequence(entropy).spawn(2)
        self._rng = np.random.default_rng(train_seq)
        self._eval_rng = np.random.default_rng(eval_seq)
        self._rank_rng = self._rng
        self._batch_sync: distributed.BatchSync | None = None
        self._average_buffers = comm is not None and not sync_batchnorm
        if comm is not None and sync_batchnorm:
            self._batch_sync = distributed.BatchSync(comm)
        # also clears the sync of an earlier data-parallel Solver of this model
        if not set_batchnorm_sync(model, self._batch_sync):
            self._batch_sync = None  # no batch norm: nothing to synchronise

        self._setup_optimizer(update_rule, optimizer, schedule)

        callback_list = list(callbacks)
        if checkpoint_name is not None and self.rank == 0:
            from numnet.callbacks.checkpoint import EpochCheckpoint

            callback_list.append(EpochCheckpoint(checkpoint_name))
        if verbose and self.rank == 0:
            from numnet.callbacks.progress import PrintLog, ProgressBar

            if not any(isinstance(cb, ProgressBar | PrintLog) for cb in callback_list):
                callback_list.append(PrintLog(print_every))
        self.callbacks = CallbackList(callback_list)
        self._reset_history()
        if resume_from is not None:
            self.resume(resume_from)
        if comm is not None:  # the replicas start equal (a model built without a seed differs)
            distributed.broadcast_arrays(comm, self.model.params)
            distributed.broadcast_arrays(comm, self._buffers())

    # ----------------------------------------------------------------------------------------------
    # optimizer plumbing
    # ----------------------------------------------------------------------------------------------

    def _setup_optimizer(self, update_rule: Any, optimizer: Any, schedule: Any) -> None:
        """Pick the rule path (CS231n rules) or the transformation path (numnet optimizers)."""
        if optimizer is None and _is_transformation(update_rule):
            optimizer = update_rule
        self._lr_scale = 1.0
        self._rule: Callable[..., Any] | None = None
        self.optimizer: Any = None
        self._fused: FlatUpdate | None = None
        self.opt_state: dict[str, Any] = {}
        self.optim_configs: dict[str, dict[str, Any]] = {}
        if optimizer is not None:
            if not _is_transformation(optimizer):
                raise TypeError("optimizer must be a numnet.optim.GradientTransformation")
            if self.lr_decay != 1.0 or schedule is not None:
                raise ConfigError(
                    "lr_decay and schedule cannot be combined with a ready-made optimizer; "
                    "pass learning_rate=<schedule> when building the optimizer instead"
                )
            self.update_rule_name = getattr(optimizer, "__qualname__", "GradientTransformation")
            self.optimizer = optimizer
            self._schedule = getattr(optimizer, "learning_rate", None)
            self.opt_state = optimizer.init(self.model.params)
            self._fused = flat_update(optimizer)
            return
        base_lr = self.optim_config.get("learning_rate")
        if callable(update_rule) or update_rule in CS231N_RULES:
            if callable(update_rule):
                self._rule = update_rule
                self.update_rule_name = getattr(update_rule, "__qualname__", "rule")
            else:
                self._rule = getattr(importlib.import_module("numnet.optim.cs231n"), update_rule)
                self.update_rule_name = update_rule
                base_lr = base_lr if base_lr is not None else CS231N_DEFAULT_LR[update_rule]
            self._schedule = self._make_schedule(base_lr, schedule)
            for name in self.model.params:
                self.optim_configs[name] = dict(self.optim_config)
            return
        if not isinstance(update_rule, str):
            raise TypeError(
                "update_rule must be a rule name, a callable rule(w, dw, config) or a "
                "GradientTransformation"
            )
        from numnet.optim import get_optimizer

        hyper = {k: v for k, v in self.optim_config.items() if k != "learning_rate"}
        if base_lr is None and schedule is None:
            raise ConfigError(
                f"optimizer {update_rule!r} needs optim_config={{'learning_rate': ...}}"
            )
        self._schedule = self._make_schedule(base_lr, schedule)
        self.update_rule_name = update_rule
        self.optimizer = get_optimizer(update_rule, self._schedule, **hyper)
        self.opt_state = self.optimizer.init(self.model.params)
        self._fused = flat_update(self.optimizer)

    def _make_schedule(self, base_lr: float | None, schedule: Any) -> Callable[[int], float] | None:
        from numnet.optim.schedules import constant, step_decay

        if schedule is not None:
            if self.lr_decay != 1.0:
                raise ConfigError("give either schedule or lr_decay, not both")
            if not callable(schedule):
                raise ConfigError("schedule must be a callable step -> learning rate")
            return schedule
        if base_lr is None:
            if self.lr_decay != 1.0:
                raise ConfigError("lr_decay needs optim_config={'learning_rate': ...}")
            return None
        if self.lr_decay != 1.0:
            return step_decay(base_lr, self.lr_decay, self.iterations_per_epoch)
        return constant(base_lr)

    @property
    def learning_rate(self) -> float | None:
        """The learning rate of the next update (``None`` when the optimizer does not expose it)."""
        if self.optimizer is not None:
            if self._schedule is None:
                return None
            from numnet.optim.learning_rate import current_learning_rate

            try:
                return current_learning_rate(self.optimizer, self.opt_state)
            except ValueError:
                return None
        if self._schedule is None:
            return None
        return float(self._schedule(self.iteration)) * self._lr_scale

    def scale_learning_rate(self, factor: float) -> None:
        """Multiply the learning rate of all further updates by ``factor`` (reduce-on-plateau)."""
        if self.optimizer is not None:
            from numnet.optim.learning_rate import scale_learning_rate

            scale_learning_rate(self.opt_state, factor)
        elif self._schedule is None:
            raise ConfigError(
                "cannot scale the learning rate: give optim_config={'learning_rate': ...}"
            )
        else:
            self._lr_scale *= float(factor)

    def _apply_update(self, grads: Mapping[str, np.ndarray]) -> None:
        """One optimizer step: the fused kernel when the model is flat, else the pure path.

        Both leave ``opt_state`` with the same keys and values, so a run may switch between them
        (a model set to the reference kernels, a checkpoint resumed on either) at any step.
        """
        params = self.model.params
        if self.optimizer is not None:
            if self._fused is not None and self._fused.step(params, grads, self.opt_state):
                return
            updates, self.opt_state = self.optimizer.update(grads, self.opt_state, params)
            apply_updates(params, updates)
            return
        assert self._rule is not None
        lr = None if self._schedule is None else self.learning_rate
        for name, grad in grads.items():
            config = self.optim_configs[name]
            if lr is not None:
                config["learning_rate"] = lr
            current = params[name]
            next_w, self.optim_configs[name] = self._rule(current, grad, config)
            if isinstance(current, np.ndarray) and current.shape == np.shape(next_w):
                np.copyto(current, next_w)
            else:
                params[name] = next_w

    # ----------------------------------------------------------------------------------------------
    # training
    # ----------------------------------------------------------------------------------------------

    def _reset_history(self) -> None:
        self.epoch = 0
        self.iteration = 0
        self.best_val_acc = 0.0
        self.best_params: dict[str, np.ndarray] = {}
        self.best_buffers: dict[str, np.ndarray] = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.history: list[dict[str, Any]] = []
        self.stop_training = False
        self.improved = False
        self.diverged = False

    @property
    def num_iterations(self) -> int:
        """Total updates of the whole run (``num_epochs * iterations_per_epoch``)."""
        return self.num_epochs * self.iterations_per_epoch

    def step(self, X_batch: np.ndarray | None = None, y_batch: np.ndarray | None = None) -> float:
        """Do one update on a batch and return its loss.

        Without a batch, one of ``batch_size`` distinct training samples is drawn at random
        (CS231n's ``_step``). Raises ``TrainingDiverged`` on a non-finite loss when
        ``check_finite``. With ``comm`` the batch is the global batch (the same on every rank, each
        of which uses its share) and every rank must call ``step``.
        """
        if X_batch is None or y_batch is None:
            size = min(self.batch_size, self.X_train.shape[0])
            idx = self._rng.choice(self.X_train.shape[0], size=size, replace=False)
            X_batch, y_batch = self.X_train[idx], self.y_train[idx]
        if self.comm is None:
            loss, grads = self.model.loss(X_batch, y_batch)
            return self._update(float(loss), grads)
        share = distributed.shard(np.arange(X_batch.shape[0]), self.comm)
        spare = (X_batch[:1], y_batch[:1])
        loss, grads = self._share_gradient(X_batch[share], y_batch[share], len(X_batch), spare)
        return self._update(loss, grads)

    def _share_gradient(
        self, X: np.ndarray, y: np.ndarray, total: int, spare: tuple[np.ndarray, np.ndarray]
    ) -> tuple[float, Mapping[str, np.ndarray]]:
        """The global batch's loss and gradient from this rank's share ``(X, y)`` of it.

        ``total`` is the size of the global batch.

        Each rank weights its share's mean loss and gradient by ``share / batch`` and the
        allreduce sums them. A rank with an empty share contributes zeros; with synchronised
        batch norm it still runs ``spare`` (one sample, marked inactive) through the model,
        since every rank must join the batch-norm allreduces.
        """
        comm = self.comm
        weight = X.shape[0] / total
        names = list(self.model.params)
        if X.shape[0] > 0:
            loss, grads = self.model.loss(X, y)
        elif self._batch_sync is not None:
            self._batch_sync.active = False
            try:
                _, grads = self.model.loss(*spare)
            finally:
                self._batch_sync.active = True
            loss = 0.0
        else:
            loss, grads = 0.0, {name: np.zeros_like(self.model.params[name]) for name in names}
        distributed.allreduce_weighted(comm, grads, names, weight)
        reduced = np.array([weight * float(loss) if weight else 0.0])
        loss = float(distributed.allreduce_sum(comm, reduced)[0])
        if self._average_buffers and self._buffers():
            buffers = self.model.buffers
            distributed.allreduce_weighted(comm, buffers, list(buffers), weight)
        return loss, grads

    def _update(self, loss: float, grads: Mapping[str, np.ndarray]) -> float:
        """Record ``loss``, check it, apply the update of ``grads``; return ``loss``."""
        self.loss_history.append(loss)
        if self.check_finite and not math.isfinite(loss):
            raise TrainingDiverged(
                f"loss became {loss} at iteration {self.iteration + 1} (epoch {self.epoch + 1}); "
                f"lower the learning rate (now {self.learning_rate}) or check the data scaling"
            )
        self._apply_update(grads)
        self.iteration += 1
        return loss

    def _check_params_finite(self) -> None:
        """Parameters, then the optimizer's state, must be finite at the end of an epoch.

        A state entry can overflow while the parameters stay finite (a huge ``reg`` squares into
        Adam's second moment): the next checkpoint would write the Inf and later updates would
        be NaN, so that is a divergence too. One ``isfinite`` pass over each array per epoch.
        """
        for name, value in self.model.params.items():
            if not np.isfinite(value).all():
                raise TrainingDiverged(
                    f"parameter {name} became NaN or Inf in epoch {self.epoch}; "
                    f"lower the learning rate (now {self.learning_rate})"
                )
        # the numnet optimizers' state, or the CS231n rules' per-parameter configs
        bad = _first_non_finite(self.opt_state) or _first_non_finite(self.optim_configs)
        if bad is not None:
            raise TrainingDiverged(
                f"optimizer state {bad} became NaN or Inf in epoch {self.epoch}; lower the "
                f"learning rate (now {self.learning_rate}) or the regularisation"
            )

    def _run_epoch(self) -> None:
        self.callbacks.on_epoch_begin(self)
        started = time.perf_counter()
        lr = self.learning_rate
        num_train = self.X_train.shape[0]
        order = self._rng.permutation(num_train)
        if self.comm is not None:
            self._seed_rank_generators()
        loss_sum = 0.0
        for start in range(0, num_train, self.batch_size):
            idx = order[start : start + self.batch_size]
            if self.comm is None:
                X_batch = self.X_train[idx]
                if self.augment is not None:
                    X_batch = self.augment(X_batch, self._rng)
                loss = self.step(X_batch, self.y_train[idx])
            else:
                share = distributed.shard(idx, self.comm)
                X_batch = self.X_train[share]
                if self.augment is not None and share.shape[0] > 0:
                    X_batch = self.augment(X_batch, self._rank_rng)
                spare = (self.X_train[idx[:1]], self.y_train[idx[:1]])
                loss, grads = self._share_gradient(
                    X_batch, self.y_train[share], idx.shape[0], spare
                )
                loss = self._update(loss, grads)
            loss_sum += loss * idx.shape[0]
            self.callbacks.on_batch_end(self)
        self.epoch += 1
        if self.check_finite:
            self._check_params_finite()
        train_acc, _ = self._evaluate(self.X_train, self.y_train, self.num_train_samples, 100)
        val_acc, val_loss = self._evaluate(self.X_val, self.y_val, self.num_val_samples, 100)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self.improved = not self.best_params or val_acc > self.best_val_acc
        if self.improved:
            self.best_val_acc = val_acc
            self.best_params = {k: np.array(v, copy=True) for k, v in self.model.params.items()}
            self.best_buffers = {k: np.array(v, copy=True) for k, v in self._buffers().items()}
        self.history.append(
            {
                "epoch": self.epoch,
                "lr": lr,
                "train_loss": loss_sum / num_train,
                "train_acc": train_acc,
                "val_loss": val_loss,
                "val_acc": val_acc,
                "seconds": time.perf_counter() - started,
            }
        )
        self.callbacks.on_epoch_end(self)

    def _seed_rank_generators(self) -> None:
        """Per-rank augmentation and dropout streams for this epoch, from (seed, epoch, rank).

        Derived afresh every epoch, so they need no place in the checkpoint (whose state must not
        depend on the number of ranks) and a run resumed with the same ranks repeats them.
        """
        key = (self.epoch, self.rank)
        self._rank_rng = np.random.default_rng(
            np.random.SeedSequence(self._entropy, spawn_key=(2, *key))
        )
        for i, generator in enumerate(solver_state.model_generators(self.model)):
            sequence = np.random.SeedSequence(self._entropy, spawn_key=(3, *key, i))
            generator.bit_generator.state = type(generator.bit_generator)(sequence).state

    def _any_rank(self, flag: bool) -> bool:
        """Whether ``flag`` is set on any rank (True on every rank if so)."""
        if self.comm is None:
            return flag
        votes = distributed.allreduce_sum(self.comm, np.array([1.0 if flag else 0.0]))
        return bool(votes[0] > 0)

    def train(self) -> None:
        """Train until ``num_epochs`` epochs are done or a callback sets ``stop_training``.

        At the end the best parameters and buffers (by validation accuracy) are copied into the
        model.
        """
        self.stop_training = False
        self.diverged = False
        self.callbacks.on_train_begin(self)
        try:
            while self.epoch < self.num_epochs and not self.stop_training:
                self._run_epoch()
                self.stop_training = self._any_rank(self.stop_training)
        except TrainingDiverged:
            self.diverged = True
            self._restore_best()
            self.callbacks.on_train_end(self)
            raise
        self._restore_best()
        self.callbacks.on_train_end(self)

    def _buffers(self) -> Mapping[str, np.ndarray]:
        buffers = getattr(self.model, "buffers", None)
        return buffers if buffers is not None else {}

    def _restore_best(self) -> None:
        if not self.best_params:
            return
        assign_arrays(self.model.params, self.best_params, "best parameters")
        if self.best_buffers:
            assign_arrays(self.model.buffers, self.best_buffers, "best buffers")

    # ----------------------------------------------------------------------------------------------
    # evaluation
    # ----------------------------------------------------------------------------------------------

    def _evaluate(
        self, X: np.ndarray, y: np.ndarray, num_samples: int | None, batch_size: int
    ) -> tuple[float, float]:
        """Accuracy and mean cross-entropy of the model's scores (test mode, no regularisation)."""
        num = X.shape[0]
        if num_samples is not None and num > num_samples:
            idx = self._eval_rng.choice(num, size=num_samples, replace=False)
            X, y = X[idx], y[idx]
            num = num_samples
        correct = 0
        loss_sum = 0.0
        if self.comm is not None:  # each rank scores its share; the sums are reduced below
            share = distributed.shard(np.arange(num), self.comm)
            X, y = X[share], y[share]
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged model scores NaN/Inf
            for start in range(0, X.shape[0], batch_size):
                batch = X[start : start + batch_size]
                scores = np.asarray(self.model.loss(batch), dtype=np.float64)
                labels = y[start : start + batch_size]
                correct += int(np.sum(np.argmax(scores, axis=1) == labels))
                loss_sum += softmax_loss(scores, labels)[0] * labels.shape[0]
        if self.comm is not None:
            totals = distributed.allreduce_sum(self.comm, np.array([correct, loss_sum]))
            correct, loss_sum = int(round(totals[0])), float(totals[1])
        return correct / num, loss_sum / num

    def check_accuracy(
        self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None, batch_size: int = 100
    ) -> float:
        """Fraction of ``X`` (or of a random subset of ``num_samples``) classified as ``y``.

        With ``comm`` every rank scores its share and the counts are reduced: call it on every
        rank (it is a collective operation), with the same arguments.
        """
        accuracy, _ = self._evaluate(X, y, num_samples, batch_size)
        return accuracy

    # ----------------------------------------------------------------------------------------------
    # checkpoints (numnet.solver_state)
    # ----------------------------------------------------------------------------------------------

    def run_config(self) -> dict[str, Any]:
        """The settings of this run as JSON data (stored in checkpoints)."""
        return solver_state.run_config(self)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue training exactly (see ``numnet.serialization``).

        The arrays are the live ones (``save_checkpoint`` copies them); copy them to keep a
        snapshot.
        """
        return solver_state.state_dict(self)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` / ``load_checkpoint`` (same model config)."""
        solver_state.load_state_dict(self, state)

    def resume(self, checkpoint_path: Any) -> None:
        """Load a checkpoint written by the ``Checkpoint`` callback and continue from its epoch.

        Raises ``ModelFileError`` if the file is unreadable or was written for a different model
        configuration (the message names the first differing setting).
        """
        self.load_state_dict(load_checkpoint(checkpoint_path))
