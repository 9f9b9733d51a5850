"""numnet.distributed without MPI: launcher detection, world() and shares of a batch."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from numnet import distributed
from numnet.errors import ConfigError

LAUNCHER_VARIABLES = (
    "PMI_RANK",
    "PMI_SIZE",
    "PMI_FD",
    "OMPI_COMM_WORLD_SIZE",
    "OMPI_COMM_WORLD_RANK",
    "PMIX_RANK",
    "MPI_LOCALNRANKS",
    "SLURM_PROCID",
)


class FakeComm:
    """The two questions shard() asks of a communicator."""

    def __init__(self, rank: int, size: int) -> None:
        self._rank, self._size = rank, size

    def Get_rank(self) -> int:  # noqa: N802 (mpi4py's name)
        return self._rank

    def Get_size(self) -> int:  # noqa: N802
        return self._size


@pytest.fixture
def no_launcher(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_not_launched_means_one_process(no_launcher: pytest.MonkeyPatch) -> None:
    assert not distributed.launched_by_mpi()
    assert distributed.world() is None
    assert distributed.rank(None) == 0 and distributed.size(None) == 1
    array = np.arange(3.0)
    assert distributed.allreduce_sum(None, array) is array
    np.testing.assert_array_equal(array, [0.0, 1.0, 2.0])


@pytest.mark.parametrize(
    "variables",
    [
        {"PMI_RANK": "0", "PMI_SIZE": "2"},
        {"OMPI_COMM_WORLD_SIZE": "2"},
        {"PMIX_RANK": "1"},
        {"SLURM_PROCID": "0", "PMI_FD": "5"},
    ],
)
def test_launchers_are_recognised(no_launcher: pytest.MonkeyPatch, variables: dict) -> None:
    for name, value in variables.items():
        no_launcher.setenv(name, value)
    assert distributed.launched_by_mpi()


def test_plain_srun_is_not_an_mpi_launch(no_launcher: pytest.MonkeyPatch) -> None:
    no_launcher.setenv("SLURM_PROCID", "0")
    assert not distributed.launched_by_mpi()


def test_launched_without_mpi4py_refuses_in_one_line(no_launcher: pytest.MonkeyPatch) -> None:
    no_launcher.setenv("PMI_RANK", "0")
    no_launcher.setitem(sys.modules, "mpi4py", None)  # import mpi4py -> ImportError
    with pytest.raises(ConfigError) as info:
        distributed.world()
    message = str(info.value)
    assert "\n" not in message
    assert "pip install -e '.[mpi]'" in message


@pytest.mark.parametrize("count, size", [(10, 3), (7, 2), (2, 3), (1, 3), (0, 2), (9, 1)])
def test_shards_are_array_split(count: int, size: int) -> None:
    indices = np.arange(100, 100 + count)
    expected = np.array_split(indices, size)
    shares = [distributed.shard(indices, FakeComm(rank, size)) for rank in range(size)]
    for share, want in zip(shares, expected, strict=True):
        np.testing.assert_array_equal(share, want)
    np.testing.assert_array_equal(np.concatenate(shares), indices)


def test_shard_without_comm_is_everything() -> None:
    indices = np.arange(5)
    np.testing.assert_array_equal(distributed.shard(indices, None), indices)
