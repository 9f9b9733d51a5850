"""Smoke test of the benchmark: ``python -m bench.run --quick`` and its JSON (no timing asserted).

Plus fast unit tests of the harness pieces (FLOP counts, ratios, batching, contender failures).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import gemm, harness, report, run

REPO_ROOT = Path(__file__).resolve().parent.parent
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None
STATUSES = {"ok", "n/a", "error"}


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run the whole benchmark once in quick mode in a child process; return its JSON."""
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    env_before = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--json", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert {k: os.environ.get(k) for k in env_before} == env_before
    assert "numnet/fastest torch" in done.stdout  # the table was printed
    assert "cnn_cold_start:" in done.stdout
    return json.loads(out.read_text(encoding="utf-8"))


def _check_numbers(values: list, count: int) -> None:
    assert len(values) == count
    assert all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in values)


def test_quick_run_top_level(quick_result: dict) -> None:
    assert quick_result["schema"] == run.SCHEMA
    assert quick_result["config"]["quick"] is True
    machine = quick_result["machine"]
    for key in ("cpu_model", "usable_cores", "versions", "blas", "blas_kernel", "blas_env"):
        assert key in machine
    assert machine["versions"]["numpy"] == np.__version__
    assert set(machine["blas_env"]) == {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}
    assert quick_result["data"]["n_train"] == 256
    assert isinstance(quick_result["data"]["source"], str)
    for shape in ("square", "skinny"):
        assert quick_result["gemm"][shape]["gflops"] > 0
    floor = quick_result["mlp_floor"]
    assert floor["flops"]["total"] == gemm.mlp_epoch_flops(256)["total"]
    assert floor["seconds_at_square_rate"] > 0


def test_quick_run_timed_workloads(quick_result: dict) -> None:
    workloads = quick_result["workloads"]
    assert list(workloads) == [name for name in run.ALL_WORKLOADS if name != "cnn_cold_start"]
    for name in run.TIMED_WORKLOADS:
        workload = workloads[name]
        assert workload["higher_is_better"] == (workload["unit"] == "images/s")
        numnet = workload["contenders"]["numnet"]
        assert numnet["status"] == "ok", numnet.get("reason")
        _check_numbers(numnet["values"], 1)
        assert numnet["median"] == numnet["values"][0]
        torch = workload["contenders"]["torch"]
        assert torch["status"] == ("ok" if HAS_TORCH else "n/a"), torch.get("reason")
        variants = ["torch"]
        if name.startswith("cnn"):
            variants.append("torch_channels_last")
            channels_last = workload["contenders"]["torch_channels_last"]
            assert channels_last["status"] == torch["status"], channels_last.get("reason")
        else:
            assert "torch_channels_last" not in workload["contenders"]
        if HAS_TORCH:
            assert workload["ratio"] == pytest.approx(numnet["median"] / torch["median"])
            assert isinstance(workload["meets_target"], bool)
            medians = {v: workload["contenders"][v]["median"] for v in variants}
            pick = max if workload["higher_is_better"] else min
            fastest = pick(medians, key=medians.__getitem__)
            assert workload["fastest_torch"] == fastest
            assert workload["ratio_fastest_torch"] == pytest.approx(
                numnet["median"] / medians[fastest]
            )
            assert isinstance(workload["meets_target_fastest_torch"], bool)
        else:
            assert workload["ratio"] is None
            assert workload["ratio_fastest_torch"] is None
    sklearn = workloads["mlp32"]["contenders"]["sklearn"]
    assert sklearn["status"] == ("ok" if HAS_SKLEARN else "n/a")
    assert "sklearn" not in workloads["mlp256"]["contenders"]
    assert workloads["mlp32"]["contenders"]["numnet"]["over_floor"] > 0


def test_quick_run_times_inference_on_the_held_models(quick_result: dict) -> None:
    workloads = quick_result["workloads"]
    assert "Solver.train()" in workloads["cnn_infer_trained"]["description"]
    assert "numnet.load" in workloads["cnn_infer_loaded"]["description"]
    assert quick_result["config"]["held_train_steps"] == 2


def test_quick_run_cold_start(quick_result: dict) -> None:
    cold = quick_result["cold_start"]
    assert cold["batch_sizes"] == [1, 64] and cold["modes"] == ["infer"]
    assert cold["target"] > 1 and cold["higher_is_better"] is False
    for batch in ("1", "64"):  # JSON object keys
        numnet = cold["results"]["numnet"]["infer"][batch]
        assert numnet["status"] == "ok", numnet.get("reason")
        assert numnet["first_s"] > 0 and numnet["steady_s"] > 0
        assert numnet["ratio"] == pytest.approx(numnet["first_s"] / numnet["steady_s"])
        assert cold["ratios"]["numnet"]["infer"][batch] == numnet["ratio"]
        torch = cold["results"]["torch"]["infer"][batch]
        assert torch["status"] == ("ok" if HAS_TORCH else "error"), torch.get("reason")
    assert isinstance(cold["meets_target"], bool)
    table = report.markdown_table(quick_result)
    assert table.count("first inference call") == 2


def test_quick_run_rss(quick_result: dict) -> None:
    rss = quick_result["workloads"]["cnn_rss"]
    assert rss["unit"] == "MiB"
    numnet = rss["contenders"]["numnet"]
    assert numnet["status"] == "ok", numnet.get("reason")
    assert numnet["raw_mib"] >= numnet["net_mib"] >= 0
    assert numnet["raw_mib"] > numnet["baseline_mib"] > 0
    assert rss["contenders"]["torch"]["status"] == ("ok" if HAS_TORCH else "n/a")
    if HAS_TORCH:
        assert rss["ratio_raw"] > 0 and rss["ratio"] > 0


def test_quick_run_env_variant(quick_result: dict) -> None:
    variant = quick_result["env_variant"]
    assert variant["status"] == "ok", variant.get("reason")
    assert variant["machine"]["blas_env"] == {"OPENBLAS_CORETYPE": None, "OPENBLAS_L2_SIZE": None}
    assert variant["env_variant"] is None  # the child did not recurse
    assert list(variant["workloads"]) == ["mlp32"]
    assert variant["workloads"]["mlp32"]["contenders"]["numnet"]["status"] == "ok"


def test_mlp_epoch_flops_counts_every_product_but_the_input_gradient() -> None:
    flops = gemm.mlp_epoch_flops(1, (784, 500, 200, 10))
    assert flops["forward"] == 2 * (784 * 500 + 500 * 200 + 200 * 10)
    assert flops["input_grad"] == 2 * (500 * 200 + 200 * 10)
    assert flops["total"] == 2_180_000
    assert gemm.mlp_epoch_flops(60_000)["total"] == 60_000 * 2_180_000


def test_matmul_gflops_is_positive() -> None:
    rate = gemm.matmul_gflops(16, 16, 16, np.random.default_rng(0), min_seconds=0.001, repeats=1)
    assert rate > 0


def test_batches_of_keeps_the_order_and_the_short_last_batch() -> None:
    order = np.random.default_rng(0).permutation(10)
    batches = run.batches_of(order, 4)
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(batches), order)
    assert len(run.batches_of(order, 4, limit=2)) == 2


def test_ratio_direction_and_target() -> None:
    contenders = {"numnet": {"median": 1.0}, "torch": {"median": 2.0}}
    assert harness.ratio_of(contenders, 0.6, False) == {"ratio": 0.5, "meets_target": True}
    assert harness.ratio_of(contenders, 1.0, True) == {"ratio": 0.5, "meets_target": False}
    assert harness.ratio_of({"numnet": {"median": 1.0}}, 1.0, False)["ratio"] is None


def test_fastest_torch_variant_is_the_denominator() -> None:
    contenders = {
        "numnet": {"median": 6.0},
        "torch": {"median": 3.0},
        "torch_channels_last": {"median": 4.0},
    }
    images_per_s = harness.fastest_torch_ratio(contenders, 1.0, True)
    assert images_per_s == {
        "fastest_torch": "torch_channels_last",
        "ratio_fastest_torch": 1.5,
        "meets_target_fastest_torch": True,
    }
    ms_per_step = harness.fastest_torch_ratio(contenders, 1.0, False)
    assert ms_per_step["fastest_torch"] == "torch"
    assert ms_per_step["ratio_fastest_torch"] == 2.0
    assert ms_per_step["meets_target_fastest_torch"] is False
    missing = {"numnet": {"median": 1.0}, "torch_channels_last": {"status": "n/a"}}
    assert harness.fastest_torch_ratio(missing, 1.0, True)["ratio_fastest_torch"] is None


def test_table_reads_results_written_before_the_channels_last_variant() -> None:
    old = {
        "cnn_train": {
            "unit": "ms/step",
            "higher_is_better": False,
            "target": 1.0,
            "contenders": {
                "numnet": {"status": "ok", "median": 11.7},
                "torch": {"status": "ok", "median": 12.1},
            },
            "ratio": 11.7 / 12.1,
            "meets_target": True,
        }
    }
    lines = report.workload_table(old)
    assert "numnet/fastest torch" in lines[0]
    assert lines[2].split()[:4] == ["cnn_train", "ms/step", "11.7", "12.1"]
    assert lines[2].endswith("0.97 (target <= 1) ok")


def test_workload_units() -> None:
    w = harness.Workload("w", "d", "ms/step", 10, 1.0, {}, 1)
    assert w.value(0.5) == pytest.approx(50.0)
    w = harness.Workload("w", "d", "images/s", 100, 1.0, {}, 1)
    assert w.value(0.5) == pytest.approx(200.0) and w.higher_is_better


def test_harness_reports_missing_and_broken_contenders_and_interleaves() -> None:
    calls: list[str] = []

    def make(name: str):
        return lambda: lambda: calls.append(name)

    def missing():
        raise harness.Unavailable("framework X is not installed")

    def broken_build():
        raise RuntimeError("bad shape")

    workload = harness.Workload(
        "w",
        "d",
        "s/epoch",
        1,
        1.0,
        {"numnet": make("numnet"), "torch": make("torch"), "x": missing, "y": broken_build},
        repeats=3,
        warmup=1,
    )
    result = run_quiet(workload)
    assert calls[:2] == ["numnet", "torch"]  # warmups
    assert calls[2:] == ["numnet", "torch", "torch", "numnet", "numnet", "torch"]
    assert result["contenders"]["x"] == {"status": "n/a", "reason": "framework X is not installed"}
    assert result["contenders"]["y"]["status"] == "error"
    assert "RuntimeError: bad shape" in result["contenders"]["y"]["reason"]
    assert len(result["contenders"]["numnet"]["values"]) == 3
    assert result["ratio"] > 0


def run_quiet(workload: harness.Workload) -> dict:
    messages: list[str] = []
    result = harness.run_workload(workload, log=messages.append)
    assert sum("n/a" in m or "error" in m for m in messages) == 2  # one per unusable contender
    assert len(messages) == 2 + 2 * workload.repeats  # and one per timed run
    return result


def test_unknown_workload_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run.parse_args(["--only", "mlp32,resnet"])
    assert exc.value.code == 2
    assert "unknown workload(s) resnet" in capsys.readouterr().err


def test_conv_algorithms_bench_runs(capsys):
    from bench import conv_algorithms

    assert conv_algorithms.main(["--quick"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("layer") and len(lines) == 2
    assert float(lines[1].split()[-1]) > 0
