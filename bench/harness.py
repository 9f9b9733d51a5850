"""Interleaved timing of several contenders on one workload, with medians and ratios.

A contender is a *builder*: a function that sets up the model, optimiser and data (untimed) and
returns ``run()``, which performs one block of work (an epoch, some steps, some images). The
harness calls the contenders' ``run`` in turns -- numnet, torch, numnet, torch, ... -- rotating who
goes first, so that the machine's slow drifts hit every contender alike.
"""

from __future__ import annotations

import gc
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Runner = Callable[[], None]
Builder = Callable[[], Runner]


class Unavailable(Exception):  # noqa: N818 - reads as "contender unavailable"
    """Raised by a builder whose framework or API is missing; the column then reads "n/a"."""


@dataclass(frozen=True)
class ShortTraining:
    """A short training run, so that inference is timed on the model a user holds, not a new one.

    Attributes
    ----------
    images : ndarray, shape (N, 1, 28, 28), float32
    labels : ndarray, shape (N,), int64
    batches : list of ndarray of int64
        Row indices of each training batch (numnet's Solver draws its own order over the same rows).
    lr, momentum : float
        SGD with momentum, as in ``cnn_train``.
    """

    images: np.ndarray
    labels: np.ndarray
    batches: list[np.ndarray]
    lr: float
    momentum: float = 0.9

    @property
    def rows(self) -> np.ndarray:
        """Every training row, in batch order."""
        return np.concatenate(self.batches)


HELD_MODELS = ("fresh", "trained", "loaded")


@dataclass
class Workload:
    """One benchmark: a unit of work timed for every contender.

    Attributes
    ----------
    name : str
        Short key used by ``--only`` and in the JSON (e.g. ``"mlp32"``).
    description : str
        One line saying what is timed.
    unit : str
        ``"s/epoch"``, ``"ms/step"`` or ``"images/s"``.
    work_per_run : float
        Steps (for ms/step) or images (for images/s) done by one ``run()``; 1 for s/epoch.
    target : float
        Target of numnet/torch: an upper bound when lower is better, a lower bound otherwise.
    builders : dict[str, Builder]
        Contender name -> builder; "numnet" is the ratios' numerator, "torch" (and, for the CNN,
        "torch_channels_last") the denominators.
    repeats : int
        Timed runs per contender.
    warmup : int
        Untimed runs per contender before the first timed one.
    """

    name: str
    description: str
    unit: str
    work_per_run: float
    target: float
    builders: dict[str, Builder]
    repeats: int
    warmup: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger value of the unit is better (throughputs)."""
        return self.unit.endswith("/s")

    def value(self, seconds: float) -> float:
        """Convert the seconds of one ``run()`` into the workload's unit."""
        if self.unit == "ms/step":
            return 1000.0 * seconds / self.work_per_run
        if self.unit == "images/s":
            return self.work_per_run / seconds
        return seconds / self.work_per_run


def _error_line(exc: BaseException) -> str:
    """One line naming an exception and where it happened (the last frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}".replace("\n", " ")


def _timed(run: Runner) -> float:
    """Seconds taken by one call of ``run`` (garbage collected beforehand, not during)."""
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def run_workload(workload: Workload, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Build every contender, time them interleaved, and return the JSON-able result.

    Returns
    -------
    dict
        ``{"description", "unit", "higher_is_better", "target", "contenders": {name: {"status",
        "values", "seconds", "median", ...}}, "ratio", "meets_target", ...extra}``; ``status`` is
        "ok", "n/a" (missing dependency/API, with ``reason``) or "error" (with ``reason``);
        ``ratio`` is numnet / plain ``torch``, and ``ratio_fastest_torch`` numnet / the faster of
        ``torch`` and ``torch_channels_last`` (named in ``fastest_torch``).
    """
    contenders: dict[str, dict[str, Any]] = {}
    runners: dict[str, Runner] = {}
    for name, build in workload.builders.items():
        try:
            runners[name] = build()
            for _ in range(workload.warmup):
                runners[name]()
            contenders[name] = {"status": "ok", "seconds": [], "values": []}
        except Unavailable as exc:
            contenders[name] = {"status": "n/a", "reason": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a broken contender must not stop the others
            contenders[name] = {"status": "error", "reason": _error_line(exc)}
        if contenders[name]["status"] != "ok":
            status, reason = contenders[name]["status"], contenders[name]["reason"]
            log(f"  {workload.name}/{name}: {status}: {reason}")

    order = list(runners)
    for repeat in range(workload.repeats):
        shift = repeat % len(order) if order else 0
        for name in order[shift:] + order[:shift]:
            if contenders[name]["status"] != "ok":
                continue
            try:
                seconds = _timed(runners[name])
            except Exception as exc:  # noqa: BLE001
                contenders[name] = {"status": "error", "reason": _error_line(exc)}
                log(f"  {workload.name}/{name}: error: {contenders[name]['reason']}")
                continue
            contenders[name]["seconds"].append(seconds)
            contenders[name]["values"].append(workload.value(seconds))
            log(f"  {workload.name}/{name}: {workload.value(seconds):.4g} {workload.unit}")
    runners.clear()
    gc.collect()

    for result in contenders.values():
        if result["status"] == "ok":
            result["median"] = statistics.median(result["values"])
    return {
        "description": workload.description,
        "unit": workload.unit,
        "higher_is_better": workload.higher_is_better,
        "target": workload.target,
        "repeats": workload.repeats,
        "warmup": workload.warmup,
        "contenders": contenders,
        **ratio_of(contenders, workload.target, workload.higher_is_better),
        **fastest_torch_ratio(contenders, workload.target, workload.higher_is_better),
        **workload.extra,
    }


TORCH_VARIANTS = ("torch", "torch_channels_last")


def ratio_of(
    contenders: dict[str, dict[str, Any]],
    target: float,
    higher_is_better: bool,
    key: str = "median",
    baseline: str = "torch",
) -> dict[str, Any]:
    """Return ``{"ratio": numnet/baseline, "meets_target": bool}``; None if either is missing."""
    numnet, other = contenders.get("numnet", {}), contenders.get(baseline, {})
    if key not in numnet or key not in other or not other[key]:
        return {"ratio": None, "meets_target": None}
    ratio = numnet[key] / other[key]
    return {
        "ratio": ratio,
        "meets_target": ratio >= target if higher_is_better else ratio <= target,
    }


def fastest_torch_ratio(
    contenders: dict[str, dict[str, Any]], target: float, higher_is_better: bool
) -> dict[str, Any]:
    """numnet against the faster PyTorch variant that ran (plain, or ``channels_last``).

    A careful PyTorch user picks the faster layout, so that is the comparison the target is read
    against. Returns ``{"fastest_torch": name, "ratio_fastest_torch": ...,
    "meets_target_fastest_torch": ...}``, all None when numnet or every PyTorch variant is missing.
    """
    ran = [name for name in TORCH_VARIANTS if "median" in contenders.get(name, {})]
    if not ran or "median" not in contenders.get("numnet", {}):
        return {
            "fastest_torch": None,
            "ratio_fastest_torch": None,
            "meets_target_fastest_torch": None,
        }
    pick = max if higher_is_better else min
    fastest = pick(ran, key=lambda name: contenders[name]["median"])
    found = ratio_of(contenders, target, higher_is_better, baseline=fastest)
    return {
        "fastest_torch": fastest,
        "ratio_fastest_torch": found["ratio"],
        "meets_target_fastest_torch": found["meets_target"],
    }
