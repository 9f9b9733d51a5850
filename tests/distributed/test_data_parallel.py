"""``mpiexec -n K`` training equals one process (issue 17), run through the real MPI launcher.

``workers/train_cases.py`` trains tiny float64 models without dropout (MLP and CNN, with and
without batch norm, fused and pure update paths, uneven and empty shares) with 1, 2 and 3
processes; each configuration runs once per module. Parameters, running statistics and every
batch loss must agree within ``rtol=1e-10``: the order of the floating-point sums is the only
difference. ``atol=1e-12`` covers one kind of value only: the bias of a layer feeding a batch
norm has a zero gradient, so it holds nothing but rounding noise (about 1e-15) that no relative
tolerance can compare.

The launcher starts a Python per rank, so this module takes tens of seconds on two busy cores.
Without mpi4py (or its ``mpiexec``) the tests skip, except where ``CI=true``: there they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.mpi import MPIEXEC, require_mpi

WORKER = Path(__file__).parent / "workers" / "train_cases.py"
TIMEOUT = 600
RTOL, ATOL = 1e-10, 1e-12

# Every case of the worker whose batch norm (if any) is synchronised; the *_local ones are not.
SYNC_CASES = [
    "mlp",
    "mlp_rule",
    "mlp_bn",
    "mlp_bn_reference",
    "mlp_bn_odd",
    "mlp_empty",
    "mlp_bn_empty",
    "mlp_last_one",
    "cnn",
    "cnn_bn",
    "cnn_bn_reference",
    "cnn_bn_odd",
]
LOCAL_CASES = ["mlp_bn_local", "cnn_bn_local"]
RANDOM_CASES = ["mlp_dropout_augment"]  # per-rank streams: not compared with one process


def _run(processes: int, out: Path, *options: str) -> dict[str, np.ndarray]:
    """Run the worker with ``processes`` ranks (1: plain Python, no launcher); load its file."""
    command = [sys.executable, str(WORKER), str(out), *options]
    if processes > 1:
        command = [str(MPIEXEC), "-n", str(processes), *command]
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    # 3 ranks on fewer cores: a rank waiting in an allreduce yields its core instead of spinning
    env.setdefault("MPIR_CVAR_ENABLE_HEAVY_YIELD", "1")
    env.setdefault("MPIR_CVAR_POLLS_BEFORE_YIELD", "1")
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=out.parent
    )
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    with np.load(out) as data:
        return dict(data)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, np.ndarray]]:
    require_mpi("the data-parallel tests")
    folder = tmp_path_factory.mktemp("data_parallel")
    return {k: _run(k, folder / f"ranks{k}.npz") for k in (1, 2, 3)}


def _case(results: dict[str, np.ndarray], case: str) -> dict[str, np.ndarray]:
    prefix = f"{case}/"
    return {k[len(prefix) :]: v for k, v in results.items() if k.startswith(prefix)}


def _assert_same_training(mine: dict[str, Any], reference: dict[str, Any], label: str) -> None:
    assert set(mine) == set(reference)
    for key, want in reference.items():
        if key == "replicas_equal":
            continue
        if key.endswith("acc_history"):
            np.testing.assert_array_equal(mine[key], want, err_msg=f"{label}: {key}")
        else:
            np.testing.assert_allclose(
                mine[key], want, rtol=RTOL, atol=ATOL, err_msg=f"{label}: {key}"
            )


@pytest.mark.parametrize("ranks", [2, 3])
@pytest.mark.parametrize("case", SYNC_CASES)
def test_k_ranks_equal_one_process(runs: dict, ranks: int, case: str) -> None:
    reference = _case(runs[1], case)
    assert reference["loss_history"].size >= 100  # a few hundred steps at most, not a handful
    _assert_same_training(_case(runs[ranks], case), reference, f"{case} on {ranks} ranks")


@pytest.mark.parametrize("ranks", [2, 3])
@pytest.mark.parametrize("case", SYNC_CASES + LOCAL_CASES + RANDOM_CASES)
def test_replicas_stay_bitwise_identical(runs: dict, ranks: int, case: str) -> None:
    assert int(_case(runs[ranks], case)["replicas_equal"]) == 1


@pytest.mark.parametrize("ranks", [2, 3])
@pytest.mark.parametrize("case", LOCAL_CASES)
def test_per_rank_batchnorm_differs(runs: dict, ranks: int, case: str) -> None:
    """``sync_batchnorm=False`` normalises each share by itself: not the one-process result."""
    mine, reference = _case(runs[ranks], case), _case(runs[1], case)
    # the first batch loss is computed before any update, from per-share statistics already
    assert abs(mine["loss_history"][0] - reference["loss_history"][0]) > 1e-6
    for key in ("params/W1", "buffers/running_var1"):
        assert not np.allclose(mine[key], reference[key], rtol=1e-6, atol=0), key


@pytest.mark.parametrize("ranks", [2, 3])
def test_dropout_and_augmentation_streams_differ_by_rank(runs: dict, ranks: int) -> None:
    """With dropout and augmentation the K-rank run trains (replicas equal, see above), but on
    other masks and noise than one process: the same in distribution, not element for element."""
    mine, reference = (
        _case(runs[ranks], "mlp_dropout_augment"),
        _case(runs[1], "mlp_dropout_augment"),
    )
    assert abs(mine["loss_history"][0] - reference["loss_history"][0]) > 1e-9
    assert mine["val_acc_history"][-1] > 0.5 and reference["val_acc_history"][-1] > 0.5


@pytest.mark.parametrize("first, second", [(2, 3), (3, 1)])
def test_resume_with_other_ranks_equals_uninterrupted(
    runs: dict, tmp_path: Path, first: int, second: int
) -> None:
    """Stop after 4 of 10 epochs on ``first`` ranks, resume on ``second``: the state has no K."""
    case = "cnn_bn"
    _run(first, tmp_path / "part.npz", "--cases", case, "--epochs", "4", "--save", "ck")
    resumed = _run(second, tmp_path / "end.npz", "--cases", case, "--resume", "ck/last.npz")
    label = f"{case} resumed from {first} on {second} ranks"
    _assert_same_training(_case(resumed, case), _case(runs[1], case), label)


def test_resume_with_dropout_on_the_same_ranks_is_exact(runs: dict, tmp_path: Path) -> None:
    """Per-rank dropout and augmentation streams come from (seed, epoch, rank), not from the
    checkpoint: resumed on the same 2 ranks, the run ends bitwise where the uninterrupted one
    did."""
    case = "mlp_dropout_augment"
    _run(2, tmp_path / "part.npz", "--cases", case, "--epochs", "4", "--save", "ck")
    resumed = _case(_run(2, tmp_path / "end.npz", "--cases", case, "--resume", "ck/last.npz"), case)
    for key, want in _case(runs[2], case).items():
        np.testing.assert_array_equal(resumed[key], want, err_msg=key)
