"""The data-parallel bench entries: the scaling estimate's arithmetic, and the one-machine
comparison run end to end on a tiny setting (its numbers are not checked: they mean nothing on a
shared machine). The end-to-end run needs mpi4py and its ``mpiexec``: it skips without them,
except where ``CI=true``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from bench import data_parallel_profile, scaling_estimate
from tests.mpi import require_mpi

ROOT = Path(__file__).resolve().parents[2]


def test_parameter_counts_are_the_readme_models():
    counts = scaling_estimate.parameter_counts()
    assert counts["mlp"] == 784 * 500 + 500 + 500 * 200 + 200 + 200 * 10 + 10
    conv = (1 * 9 + 1) * 32 + (32 * 9 + 1) * 64
    assert counts["cnn"] == conv + (64 * 7 * 7 + 1) * 128 + (128 + 1) * 10


def test_ring_allreduce_time():
    # 1e6 parameters = 4 MB; K = 4 moves 2 * 3/4 * 4 MB = 6 MB = 48 Mbit: 4.8 ms at 10 Gbit/s,
    # plus 2 * 3 ring messages and ceil(log2 4) = 2 loss messages of latency
    comm = scaling_estimate.comm_seconds(1_000_000, 4, 10.0, 1e-5)
    assert math.isclose(comm, 48e6 / 10e9 + 8 * 1e-5)
    assert scaling_estimate.comm_seconds(10, 2, 10.0, 0.0) < comm


def test_batch_for_80_percent_is_the_smallest():
    report = scaling_estimate.estimate(scaling_estimate.RECORDED_SECONDS_PER_IMAGE, 30e-6)
    assert len(report["rows"]) == 2 * 2 * len(scaling_estimate.RANKS)
    for row in report["rows"]:
        per_image = scaling_estimate.RECORDED_SECONDS_PER_IMAGE[row["model"]]
        comm, k, batch = row["comm_ms"] / 1e3, row["ranks"], row["batch_for_80_percent"]
        assert scaling_estimate.efficiency(batch, per_image, comm, k) >= 0.8 - 1e-12
        assert scaling_estimate.efficiency(batch - 1, per_image, comm, k) < 0.8
    efficiencies = [r["efficiency_at_readme_batch"] for r in report["rows"]]
    assert all(0 < e < 1 for e in efficiencies)


def test_the_docs_table_is_the_scripts():
    """docs/distributed.md shows what the script prints (rerun it after changing either)."""
    report = scaling_estimate.estimate(scaling_estimate.RECORDED_SECONDS_PER_IMAGE, 30e-6)
    page = (ROOT / "docs" / "distributed.md").read_text(encoding="utf-8")
    assert scaling_estimate.markdown(report) in page


def test_one_machine_comparison_runs(tmp_path):
    require_mpi("the data-parallel bench")
    out = tmp_path / "dp.json"
    command = [sys.executable, "-m", "bench.data_parallel", "--quick", "--only", "mlp"]
    done = subprocess.run(
        [*command, "--samples", "96", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    row = report["workloads"]["mlp"]
    assert row["ratio_ranks_over_threads"] > 0
    assert set(row["samples"]) == {"ranks", "threads"}
    assert "| mlp (96 images) |" in done.stdout


def test_the_profile_splits_an_epoch_into_its_parts():
    require_mpi("the data-parallel bench")
    command = [sys.executable, "-m", "bench.data_parallel_profile", "--only", "mlp"]
    done = subprocess.run(
        [*command, "--samples", "96", "--epochs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| mlp")]
    parts = {row[1].strip(): (float(row[2]), float(row[3])) for row in rows}
    assert set(parts) == {"epoch", *data_parallel_profile.PARTS}
    ranks_epoch, threads_epoch = parts["epoch"]
    assert ranks_epoch > 0 and threads_epoch > 0
    assert parts["forward + backward"][0] > 0
    assert parts["allreduce (incl. waiting)"][0] > 0  # the ranks talk, ...
    assert parts["allreduce (incl. waiting)"][1] == 0  # ... one process does not
