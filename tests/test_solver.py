"""Solver: learning, true epochs, lr decay, best-model restore, validation, divergence, resume."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.callbacks import Callback, Checkpoint, EarlyStopping, MetricsCSV, ReduceLROnPlateau
from numnet.errors import ConfigError, DataError, ModelFileError, TrainingDiverged
from numnet.optim import SGD
from numnet.serialization import load_checkpoint
from numnet.solver import Solver
from tests.callbacks.helpers import KillAfter, Killed, Recorder, RecordingSoftmax, blobs, small_net


def test_solver_learns_blobs():
    data = blobs()
    solver = Solver(
        small_net(),
        data,
        optim_config={"learning_rate": 0.1},
        batch_size=32,
        num_epochs=8,
        seed=0,
        verbose=False,
    )
    solver.train()
    assert solver.best_val_acc > 0.9
    assert solver.history[-1]["train_loss"] < solver.history[0]["train_loss"]
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == pytest.approx(solver.best_val_acc)
    assert len(solver.loss_history) == solver.iteration == 8 * 8


def test_epochs_are_permutations_with_partial_last_batch():
    rng = np.random.default_rng(1)
    X = np.arange(53 * 2, dtype=np.float64).reshape(53, 2)
    data = {
        "X_train": X,
        "y_train": rng.integers(0, 2, 53),
        "X_val": X[:5],
        "y_val": np.zeros(5, int),
    }
    model = RecordingSoftmax(2, 2)
    solver = Solver(
        model,
        data,
        batch_size=10,
        num_epochs=2,
        seed=3,
        verbose=False,
        optim_config={"learning_rate": 1e-4},
    )
    solver.train()
    assert solver.iterations_per_epoch == 6 and solver.iteration == 12
    assert [len(b) for b in model.batches] == [10, 10, 10, 10, 10, 3] * 2
    orders = []
    for epoch in range(2):
        seen = np.concatenate(model.batches[6 * epoch : 6 * epoch + 6])[:, 0] / 2
        assert np.array_equal(np.sort(seen), np.arange(53))  # every sample exactly once
        orders.append(seen)
    assert not np.array_equal(orders[0], orders[1])  # a fresh permutation each epoch


def test_lr_decay_is_a_per_epoch_step_schedule_for_cs231n_rules():
    used = []

    def recording_sgd(w, dw, config):
        used.append(config["learning_rate"])
        return w - config["learning_rate"] * dw, config

    data = blobs(n_train=50)
    solver = Solver(
        RecordingSoftmax(8, 3),
        data,
        update_rule=recording_sgd,
        optim_config={"learning_rate": 0.5},
        lr_decay=0.5,
        batch_size=20,
        num_epochs=3,
        verbose=False,
        seed=0,
    )
    solver.train()
    per_update = used[::2]  # two parameters per update
    expected = [0.5 * 0.5 ** (i // 3) for i in range(9)]
    assert per_update == pytest.approx(expected)
    assert [r["lr"] for r in solver.history] == pytest.approx([0.5, 0.25, 0.125])


def test_lr_decay_with_numnet_optimizer_name():
    solver = Solver(
        small_net(),
        blobs(),
        update_rule="momentum",
        optim_config={"learning_rate": 0.05, "momentum": 0.9},
        lr_decay=0.9,
        num_epochs=3,
        batch_size=60,
        verbose=False,
        seed=0,
    )
    solver.train()
    assert [r["lr"] for r in solver.history] == pytest.approx([0.05, 0.045, 0.0405])


def test_ready_made_optimizer_refuses_lr_decay_but_trains_alone():
    with pytest.raises(ConfigError, match="lr_decay"):
        Solver(small_net(), blobs(), optimizer=SGD(0.1), lr_decay=0.9, verbose=False)
    solver = Solver(small_net(), blobs(), update_rule=SGD(0.1), num_epochs=2, verbose=False, seed=0)
    solver.train()
    assert solver.history[0]["lr"] == pytest.approx(0.1)
    assert solver.best_val_acc > 0.5


class Scramble(Callback):
    """After epoch 1, negate every weight and freeze learning: later epochs are worse than epoch 1
    (their batchnorm running statistics still move)."""

    def on_epoch_end(self, solver):
        if solver.epoch == 1:
            for name, value in solver.model.params.items():
                if name.startswith("W"):
                    value *= -1
            solver.scale_learning_rate(1e-9)


def test_best_params_restore_includes_batchnorm_running_stats():
    recorder = Recorder()
    model = small_net(normalization="batchnorm")
    solver = Solver(
        model,
        blobs(),
        optim_config={"learning_rate": 0.05},
        batch_size=40,
        num_epochs=3,
        seed=0,
        verbose=False,
        callbacks=[Scramble(), recorder],
    )
    solver.train()
    accs = [s["record"]["val_acc"] for s in recorder.snapshots]
    best = int(np.argmax(accs))
    assert best != len(accs) - 1, "setup: the last epoch must not be the best"
    for name, value in recorder.snapshots[best]["params"].items():
        if not name.startswith("W"):
            assert np.array_equal(model.params[name], value)
    snapshot_buffers = recorder.snapshots[best]["buffers"]
    assert snapshot_buffers
    for name, value in snapshot_buffers.items():
        assert np.array_equal(model.buffers[name], value)
        assert not np.array_equal(model.buffers[name], recorder.snapshots[-1]["buffers"][name])
    assert solver.check_accuracy(solver.X_val, solver.y_val) == pytest.approx(max(accs))


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda d: d.pop("y_val"), DataError, "missing"),
        (lambda d: d["X_train"].__setitem__((0, 0), np.nan), DataError, "NaN"),
        (lambda d: d["y_train"].__setitem__(0, 7), DataError, "labels must lie in"),
        (lambda d: d["y_val"].__setitem__(0, -1), DataError, "labels must lie in"),
        (lambda d: d.__setitem__("y_train", d["y_train"][:-1]), ValueError, "shape"),
        (lambda d: d.__setitem__("X_val", d["X_val"][:, :4]), ValueError, "must match"),
        (lambda d: d.__setitem__("X_train", d["X_train"].astype(int)), TypeError, "float"),
        (lambda d: d.__setitem__("y_train", d["y_train"] * 1.0), TypeError, "integer"),
    ],
)
def test_data_validation_one_line_errors(change, error, match):
    data = blobs()
    change(data)
    with pytest.raises(error, match=match) as info:
        Solver(small_net(), data, verbose=False)
    assert "\n" not in str(info.value)


class Explode(Callback):
    def on_epoch_end(self, solver):
        if solver.epoch == 1:
            solver.scale_learning_rate(1e12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_raises_and_never_writes_nan(tmp_path):
    model = small_net()
    csv_path = tmp_path / "metrics.csv"
    solver = Solver(
        model,
        blobs(),
        optim_config={"learning_rate": 0.1},
        num_epochs=5,
        seed=0,
        verbose=False,
        callbacks=[Checkpoint(tmp_path / "ckpt"), MetricsCSV(csv_path), Explode()],
    )
    with pytest.raises(TrainingDiverged, match="learning rate") as info:
        solver.train()
    assert "\n" not in str(info.value)
    assert solver.diverged and solver.epoch == 1
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["best.npz", "last.npz"]
    state = load_checkpoint(tmp_path / "ckpt" / "last.npz")  # refuses NaN, so loading proves it
    assert state["meta"]["epoch"] == 1
    for name, value in model.params.items():  # the model is left at its best (finite) weights
        assert np.array_equal(value, solver.best_params[name])
    assert len(csv_path.read_text().splitlines()) == 2  # header + epoch 1; file closed


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_from_a_huge_learning_rate():
    solver = Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 1e9},
        num_epochs=3,
        seed=0,
        verbose=False,
    )
    with pytest.raises(TrainingDiverged):
        solver.train()


def _strip_seconds(history):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in history]


def _noise(X, rng):
    return X + rng.normal(scale=0.1, size=X.shape).astype(X.dtype)


@pytest.mark.parametrize(
    "setup",
    [
        {
            "update_rule": "sgd_momentum",
            "optim_config": {"learning_rate": 0.05},
            "lr_decay": 0.8,
            "net": {"normalization": "batchnorm", "dropout_keep_ratio": 0.8},
            "augment": _noise,
        },
        {"update_rule": "adam", "optim_config": {"learning_rate": 5e-3}, "net": {}},
        {
            "update_rule": "adamw",
            "optim_config": {"learning_rate": 5e-3, "weight_decay": 1e-3},
            "net": {"normalization": "layernorm", "dropout_keep_ratio": 0.9},
            "plateau": True,
        },
    ],
    ids=["cs231n-rule-bn-dropout-augment", "cs231n-adam", "numnet-adamw-plateau"],
)
def test_resume_after_kill_matches_uninterrupted_run(tmp_path, setup):
    def run(directory, extra):
        callbacks = [Checkpoint(directory), EarlyStopping(patience=50), *extra]
        if setup.get("plateau"):
            callbacks.append(
                ReduceLROnPlateau(factor=0.5, patience=0, min_delta=1.0, monitor="val_acc")
            )
        options = {k: v for k, v in setup.items() if k not in ("net", "plateau")}
        return small_net(seed=7, **setup["net"]), callbacks, options

    model_a, callbacks, options = run(tmp_path / "a", [])
    full = Solver(
        model_a,
        blobs(),
        batch_size=32,
        num_epochs=4,
        seed=11,
        verbose=False,
        callbacks=callbacks,
        **options,
    )
    full.train()

    model_b, callbacks, options = run(tmp_path / "b", [KillAfter(2)])
    first = Solver(
        model_b,
        blobs(),
        batch_size=32,
        num_epochs=4,
        seed=11,
        verbose=False,
        callbacks=callbacks,
        **options,
    )
    with pytest.raises(Killed):
        first.train()

    model_c, callbacks, options = run(tmp_path / "b", [])
    resumed = Solver(
        model_c,
        blobs(),
        batch_size=32,
        num_epochs=4,
        seed=11,
        verbose=False,
        callbacks=callbacks,
        resume_from=tmp_path / "b" / "last.npz",
        **options,
    )
    assert resumed.epoch == 2
    resumed.train()
    for name, value in model_a.params.items():
        assert np.array_equal(value, model_c.params[name]), name
    for name, value in model_a.buffers.items():
        assert np.array_equal(value, model_c.buffers[name]), name
    assert resumed.loss_history == full.loss_history
    assert _strip_seconds(resumed.history) == _strip_seconds(full.history)
    if setup.get("plateau"):
        assert full.history[-1]["lr"] < full.history[0]["lr"]  # the plateau path was exercised


def test_resume_refuses_a_different_model(tmp_path):
    solver = Solver(
        small_net(),
        blobs(),
        optim_config={"learning_rate": 0.1},
        num_epochs=1,
        verbose=False,
        callbacks=[Checkpoint(tmp_path)],
    )
    solver.train()
    other = small_net(reg=0.5)
    with pytest.raises(ModelFileError, match="'reg' is 0.0 in the file but 0.5 in the model"):
        Solver(other, blobs(), verbose=False, resume_from=tmp_path / "last.npz")
    with pytest.raises(ModelFileError, match="update_rule"):
        Solver(
            small_net(),
            blobs(),
            update_rule="adam",
            optimizer=SGD(0.1),
            verbose=False,
            resume_from=tmp_path / "last.npz",
        )


def test_cs231n_checkpoint_name_and_verbose_output(tmp_path, capsys):
    prefix = tmp_path / "run"
    solver = Solver(
        small_net(),
        blobs(),
        update_rule="sgd",
        optim_config={"learning_rate": 0.1},
        num_epochs=2,
        batch_size=60,
        print_every=2,
        checkpoint_name=str(prefix),
        seed=0,
    )
    solver.train()
    assert (tmp_path / "run_epoch_1.npz").exists() and (tmp_path / "run_epoch_2.npz").exists()
    out = capsys.readouterr().out
    assert "(Iteration 1 / 8) loss:" in out and "(Iteration 3 / 8) loss:" in out
    assert "(Epoch 2 / 2) train acc:" in out and "val_acc:" in out
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 2


def test_step_without_batch_and_subsampled_accuracy():
    data = blobs()
    solver = Solver(
        small_net(), data, optim_config={"learning_rate": 0.1}, batch_size=16, verbose=False, seed=0
    )
    loss = solver.step()
    assert np.isfinite(loss) and solver.iteration == 1 and solver.loss_history == [loss]
    acc = solver.check_accuracy(data["X_train"], data["y_train"], num_samples=50)
    assert acc * 50 == pytest.approx(round(acc * 50))


ADAMW = {"learning_rate": 1e-2, "weight_decay": 1e-3, "clip_norm": 5.0}


def _adamw_run(kernels, epochs, directory=None, resume=None):
    solver = Solver(
        small_net(seed=5, kernels=kernels),
        blobs(),
        update_rule="adamw",
        optim_config=ADAMW,
        batch_size=32,
        num_epochs=epochs,
        seed=2,
        verbose=False,
        callbacks=[Checkpoint(directory)] if directory is not None else [],
        resume_from=resume,
    )
    solver.train()
    return solver


def _fused(solver):
    """Whether the optimizer state lives in the fused kernel's flat buffers."""
    moment = next(v for k, v in solver.opt_state.items() if k.endswith("/m/W1"))
    return moment.base is not None and moment.base.size > moment.size


def test_fused_kernel_on_a_fast_model_pure_update_on_a_reference_model():
    fast, reference = _adamw_run("fast", 3), _adamw_run("reference", 3)
    assert _fused(fast) and not _fused(reference)
    assert set(fast.opt_state) == set(reference.opt_state)
    for key, value in reference.opt_state.items():
        np.testing.assert_allclose(fast.opt_state[key], value, rtol=1e-5, atol=1e-7, err_msg=key)
    for name, value in reference.model.params.items():
        np.testing.assert_allclose(fast.model.params[name], value, rtol=1e-5, atol=1e-7)


def test_fused_and_pure_updates_of_one_model_are_identical():
    """Without clipping every stage is elementwise in the same order: bit for bit the same."""
    options = {"learning_rate": 1e-2, "weight_decay": 1e-3}
    solvers = []
    for fused in (True, False):
        solver = Solver(
            small_net(seed=5),
            blobs(),
            update_rule="adamw",
            optim_config=options,
            batch_size=32,
            num_epochs=2,
            seed=2,
            verbose=False,
        )
        if not fused:
            solver._fused = None
        solver.train()
        solvers.append(solver)
    assert _fused(solvers[0]) and not _fused(solvers[1])
    for name, value in solvers[1].model.params.items():
        assert np.array_equal(solvers[0].model.params[name], value), name
    for key, value in solvers[1].opt_state.items():
        assert np.array_equal(solvers[0].opt_state[key], value), key


@pytest.mark.parametrize("first, second", [("fast", "reference"), ("reference", "fast")])
def test_checkpoint_resumes_on_the_other_optimizer_path(tmp_path, first, second):
    _adamw_run(first, 2, directory=tmp_path)
    resumed = _adamw_run(second, 4, resume=tmp_path / "last.npz")
    straight = _adamw_run(second, 4)
    assert _fused(resumed) == (second == "fast")
    assert resumed.iteration == straight.iteration
    for key, value in straight.opt_state.items():
        np.testing.assert_allclose(resumed.opt_state[key], value, rtol=1e-5, atol=1e-7)
    for name, value in straight.model.params.items():
        np.testing.assert_allclose(resumed.model.params[name], value, rtol=1e-5, atol=1e-7)


def test_validation_loss_is_the_softmax_loss_of_the_scores():
    from numnet.functional.losses import softmax_loss

    data = blobs()
    solver = Solver(small_net(), data, num_epochs=1, verbose=False, seed=0, num_val_samples=None)
    solver.train()
    scores = solver.model.loss(data["X_val"]).astype(np.float64)
    expected = softmax_loss(scores, data["y_val"])[0]
    assert solver.history[-1]["val_loss"] == pytest.approx(expected, rel=1e-12)
