"""What a sweep shows: the table of its best trials, ``SWEEP_DIR/best/`` and its pictures.

Written at the end of every sweep and by ``numnet sweep --show`` at any time (also while workers
run). ``best/`` holds a copy of the best complete trial's ``model.npz`` (written atomically) and
``settings.json`` (trial number, value, swept settings, the trial's directory). Pictures come from
Optuna's matplotlib visualisations: ``history.png`` (optimisation history),
``importances.png`` (parameter importances: two or more complete trials and more than one swept
setting) and ``parallel_coordinate.png`` (several swept settings) or ``slice.png`` (one).
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numnet.cli.sweep.objective import describe
from numnet.cli.sweep.space import label

BEST_DIR = "best"
TABLE_ROWS = 10
STATE_ORDER = ("COMPLETE", "PRUNED", "RUNNING", "WAITING", "FAIL")


def _value(trial: Any) -> float | None:
    return None if trial.value is None else float(trial.value)


def ranked(trials: list[Any]) -> list[Any]:
    """Complete trials by value (best first), then pruned ones by their last reported value, then
    the rest by number."""

    def key(trial: Any) -> tuple[int, float, int]:
        state = trial.state.name
        rank = STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER)
        value = _value(trial)
        return (min(rank, 2), -(value if value is not None else -1.0), trial.number)

    return sorted(trials, key=key)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(label(value))


def table(study: Any, rows: int = TABLE_ROWS) -> str:
    """The study's summary line and its best ``rows`` trials: number, state, value, settings."""
    trials = study.get_trials(deepcopy=False)
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    states = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
    lines = [f"study {study.study_name}: {len(trials)} trials ({states or 'none yet'})"]
    if not trials:
        return lines[0]
    names = sorted({name for trial in trials for name in trial.params})
    header = ["trial", "state", "val acc", *(name.replace("_", "-") for name in names)]
    body = []
    for trial in ranked(trials)[:rows]:
        value = _value(trial)
        body.append(
            [
                str(trial.number),
                trial.state.name.lower(),
                "-" if value is None else f"{value:.4f}",
                *(_cell(trial.params.get(name)) for name in names),
            ]
        )
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    if len(trials) > rows:
        lines.append(f"({len(trials) - rows} more trials not shown)")
    return "\n".join(line.rstrip() for line in lines)


def best_trial(study: Any) -> Any | None:
    """The complete trial with the highest value, or None when no trial has completed."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    return ranked(complete)[0] if complete else None


def write_best(study: Any, sweep_dir: Path) -> str:
    """Refresh ``SWEEP_DIR/best/`` from the best complete trial; return one line saying what."""
    from numnet.files import write_atomic

    trial = best_trial(study)
    if trial is None:
        return "no trial has completed yet, so there is no best model"
    best = sweep_dir / BEST_DIR
    best.mkdir(parents=True, exist_ok=True)
    run_dir = Path(trial.user_attrs.get("dir", ""))
    settings = {
        "trial": trial.number,
        "val_acc": trial.value,
        "settings": {k: label(v) for k, v in trial.params.items()},
        "trial_dir": str(run_dir),
        "host": trial.user_attrs.get("host"),
    }
    text = json.dumps(settings, indent=2, sort_keys=True) + "\n"
    write_atomic(best / "settings.json", lambda handle: handle.write(text.encode()))
    model = run_dir / "model.npz"
    where = f"trial {trial.number} (val acc {trial.value:.4f}: {describe(trial.params)})"
    if not model.is_file():
        return (
            f"best: {where}; its model is not on this machine ({model}, host "
            f"{trial.user_attrs.get('host')}); settings in {best / 'settings.json'}"
        )
    with open(model, "rb") as source:
        write_atomic(best / "model.npz", lambda handle: shutil.copyfileobj(source, handle))
    return f"best: {where}; model and settings in {best}"


def _figure(result: Any) -> Any:
    import numpy as np

    return np.ravel(result)[0].figure


def _plots(study: Any) -> list[tuple[str, Callable[[], Any]]]:
    from optuna.visualization import matplotlib as vis

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    names = {name for t in complete for name in t.params}
    plots: list[tuple[str, Callable[[], Any]]] = [
        ("history.png", lambda: vis.plot_optimization_history(study))
    ]
    if len(complete) >= 2 and len(names) > 1:
        plots.append(("importances.png", lambda: vis.plot_param_importances(study)))
    if len(names) > 1:
        plots.append(("parallel_coordinate.png", lambda: vis.plot_parallel_coordinate(study)))
    elif names:
        plots.append(("slice.png", lambda: vis.plot_slice(study)))
    return plots


def write_pictures(study: Any, sweep_dir: Path) -> str:
    """Draw the study's pictures into ``sweep_dir``; return one line naming them (or why not)."""
    from numnet.callbacks.figures import INSTALL_HINT, pyplot, save_figure
    from numnet.errors import NumnetError

    try:
        plt = pyplot()
    except NumnetError:
        return f"no pictures: {INSTALL_HINT}"
    written, skipped = [], []
    for name, draw in _plots(study):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
            try:
                fig = _figure(draw())
            except (ValueError, RuntimeError, ZeroDivisionError) as exc:
                skipped.append(f"{name} ({' '.join(str(exc).split())[:80]})")
                continue
        try:
            fig.tight_layout()
            save_figure(fig, sweep_dir / name)
        finally:
            plt.close(fig)
        written.append(name)
    line = f"pictures in {sweep_dir}: {', '.join(written)}"
    if skipped:
        line += f"; skipped {', '.join(skipped)}"
    return line


def show(study: Any, sweep_dir: Path) -> str:
    """The table, then the best-model and pictures lines (``best/`` and pictures refreshed)."""
    return "\n".join([table(study), write_best(study, sweep_dir), write_pictures(study, sweep_dir)])
