"""A sweep worker without numnet train, for the storage tests: ``python storage_worker.py
STORAGE SWEEP_DIR STUDY N SECONDS`` runs trials of a one-parameter objective that sleeps
SECONDS (and records its pid in the trial) until the study has N finished trials.

STORAGE is a database URL or ``-`` for the journal file in SWEEP_DIR. Each trial writes
SWEEP_DIR/trial-NNNN/started before its sleep, so a test can kill the worker mid-trial. With
``$BARRIER`` set to a folder, the worker writes ``ready-PID`` there once its study is loaded and
waits for a file ``go`` before its first trial (so that two workers really run side by side).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from numnet.cli.sweep.storage import load_study, open_storage, optimize_until


def main(argv: list[str]) -> None:
    storage, sweep_dir, study_name, n, seconds = argv
    sweep_dir = Path(sweep_dir)
    store = open_storage(None if storage == "-" else storage, sweep_dir, heartbeat_s=1)
    study = load_study(store, study_name, "digest")

    def objective(trial):
        x = trial.suggest_float("x", -10.0, 10.0)
        trial.set_user_attr("pid", os.getpid())
        folder = sweep_dir / f"trial-{trial.number:04d}"
        folder.mkdir()  # fails if a trial number were handed out twice
        (folder / "started").write_text(str(os.getpid()))
        time.sleep(float(seconds))
        return -(x**2)

    barrier = os.environ.get("BARRIER")
    if barrier:
        (Path(barrier) / f"ready-{os.getpid()}").touch()
        while not (Path(barrier) / "go").exists():
            time.sleep(0.05)
    optimize_until(study, objective, int(n), poll_s=0.2)


if __name__ == "__main__":
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    main(sys.argv[1:])
