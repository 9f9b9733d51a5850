"""Data-parallel plumbing over MPI: which rank am I, how many are we, sum this array over all.

numnet trains one model with K processes the way Horovod and ChainerMN do: every rank holds the
whole model, takes its share of every global batch, and one allreduce of the flat gradient buffer
gives every rank the global batch's gradient. This module is the small part that talks to MPI
(through mpi4py, imported only when a run is launched by ``mpiexec``); the Solver and the
synchronised batch norm build on it.

``comm`` below is an ``mpi4py.MPI.Comm`` (usually :func:`world`) or ``None``: ``None`` is one
process, and every function then does what a single rank would.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping, Sequence
from typing import Any

import numpy as np

from numnet.errors import ConfigError

# Environment variables that a process launcher sets in every process it starts: MPICH's Hydra
# and Intel MPI (PMI_*), Open MPI (OMPI_COMM_WORLD_*), PMIx-based launchers, Slurm's srun with PMI.
_LAUNCHER_VARIABLES = (
    "PMI_RANK",
    "PMI_SIZE",
    "OMPI_COMM_WORLD_SIZE",
    "OMPI_COMM_WORLD_RANK",
    "PMIX_RANK",
    "MPI_LOCALNRANKS",
)


def launched_by_mpi() -> bool:
    """Whether this process was started by an MPI launcher (``mpiexec``, ``mpirun``, ``srun``).

    Read from the launcher's environment variables, so it works before (and without) mpi4py.
    A plain ``srun`` without an MPI plugin sets only ``SLURM_*`` and counts as not launched.
    """
    if any(name in os.environ for name in _LAUNCHER_VARIABLES):
        return True
    # srun --mpi=pmi2 / pmix: Slurm's PMI sets PMI_FD or PMIX_* beside SLURM_PROCID
    return "SLURM_PROCID" in os.environ and (
        "PMI_FD" in os.environ or any(name.startswith("PMIX_") for name in os.environ)
    )


def _mpi() -> Any:
    """The ``mpi4py.MPI`` module, or a one-line ``ConfigError`` saying how to install it."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise ConfigError(
            "started by an MPI launcher but mpi4py is not installed; install it with "
            "pip install -e '.[mpi]' (or run without mpiexec)"
        ) from None
    return MPI


def world() -> Any:
    """``mpi4py.MPI.COMM_WORLD`` when launched by MPI, else ``None`` (one process).

    Raises ``ConfigError`` when launched by MPI without mpi4py: K independent runs would all
    train the same model and write the same files.
    """
    if not launched_by_mpi():
        return None
    return _mpi().COMM_WORLD


def rank(comm: Any) -> int:
    """This process's rank in ``comm`` (0 for ``None``)."""
    return 0 if comm is None else int(comm.Get_rank())


def size(comm: Any) -> int:
    """The number of ranks in ``comm`` (1 for ``None``)."""
    return 1 if comm is None else int(comm.Get_size())


def _check_buffer(array: np.ndarray) -> None:
    if not isinstance(array, np.ndarray) or not array.flags.c_contiguous:
        raise ValueError("MPI buffers must be C-contiguous NumPy arrays")


def allreduce_sum(comm: Any, array: np.ndarray) -> np.ndarray:
    """Replace ``array`` by its elementwise sum over all ranks (in place); return it.

    ``array`` must be C-contiguous with the same shape and dtype on every rank. Every rank
    receives the same sums (MPICH and Open MPI reduce each element once and share the result),
    which keeps the replicas bitwise identical after the same update.
    """
    _check_buffer(array)
    if comm is not None and size(comm) > 1:
        comm.Allreduce(_mpi().IN_PLACE, array, op=_mpi().SUM)
    return array


def broadcast(comm: Any, array: np.ndarray, root: int = 0) -> np.ndarray:
    """Overwrite ``array`` on every rank with ``root``'s values (in place); return it."""
    _check_buffer(array)
    if comm is not None and size(comm) > 1:
        comm.Bcast(array, root=root)
    return array


def broadcast_object(comm: Any, value: Any, root: int = 0) -> Any:
    """``root``'s ``value`` on every rank (a small picklable Python value, e.g. a seed)."""
    if comm is None or size(comm) == 1:
        return value
    return comm.bcast(value, root=root)


def allreduce_weighted(
    comm: Any, arrays: MutableMapping[str, Any], names: Sequence[str], weight: float
) -> None:
    """Replace ``arrays[name]`` by ``sum_k weight_k * arrays_k[name]`` on every rank.

    One allreduce over one flat buffer: the gradients' own flat array when ``arrays`` has one in
    the order of ``names`` (a model on its fast kernels), else a packed copy whose sums are
    written back as new arrays. ``weight`` 0 contributes exact zeros (even where this rank's
    arrays are not finite). Every rank must pass the same ``names``, shapes and dtypes.
    """
    flat_buffer = getattr(arrays, "flat_buffer", None)
    flat = flat_buffer() if callable(flat_buffer) else None
    layout = getattr(arrays, "layout", None)
    if flat is None or getattr(layout, "names", None) != tuple(names):
        flat = None
    if flat is None or not flat.flags.c_contiguous:
        dtype = np.result_type(*[arrays[name] for name in names])
        pieces = [np.ravel(np.asarray(arrays[name], dtype=dtype)) for name in names]
        packed = np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)
    else:
        packed = flat
    if weight == 0:
        packed[...] = 0
    elif weight != 1:
        packed *= packed.dtype.type(weight)
    allreduce_sum(comm, packed)
    if packed is flat:
        return
    start = 0
    for name in names:
        current = arrays[name]
        stop = start + int(np.size(current))
        arrays[name] = packed[start:stop].reshape(np.shape(current)).astype(current.dtype)
        start = stop


def broadcast_arrays(comm: Any, arrays: MutableMapping[str, Any], root: int = 0) -> None:
    """Give every rank ``root``'s values of ``arrays`` (in place where an array is contiguous)."""
    if comm is None or size(comm) == 1:
        return
    for name in list(arrays):
        current = arrays[name]
        if isinstance(current, np.ndarray) and current.flags.c_contiguous:
            broadcast(comm, current, root)
        else:
            arrays[name] = broadcast(comm, np.ascontiguousarray(current), root)


def shard(indices: np.ndarray, comm: Any) -> np.ndarray:
    """This rank's share of ``indices``: ``np.array_split(indices, K)[rank]``.

    Shares differ by at most one element (the first ``len % K`` ranks get one more) and may be
    empty when there are fewer indices than ranks.
    """
    indices = np.asarray(indices)
    count = size(comm)
    if count == 1:
        return indices
    # np.array_split's boundaries, computed without building every share
    base, extra = divmod(indices.shape[0], count)
    me = rank(comm)
    start = me * base + min(me, extra)
    return indices[start : start + base + (1 if me < extra else 0)]


class BatchSync:
    """What synchronised batch norm needs from the ranks during one training step.

    The Solver creates one per run and hands it to every batch-norm layer. ``active`` is False
    on a rank whose share of the global batch is empty: that rank still runs one sample through
    the model (every rank must join each allreduce), but contributes nothing to the statistics
    and gets weight 0 in the gradient.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm or None
    """

    def __init__(self, comm: Any) -> None:
        self.comm = comm
        self.active = True

    def sum(self, local: np.ndarray) -> np.ndarray:
        """The sum over the ranks of ``local`` (a new contiguous array; zeros count when
        inactive)."""
        total = np.array(local, copy=True, order="C")
        if not self.active:
            total[...] = 0
        return allreduce_sum(self.comm, total)
