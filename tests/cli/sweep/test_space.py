"""The space file of ``numnet sweep``: distributions from train flags, one error line otherwise."""

from __future__ import annotations

import pytest

from numnet.cli import main
from numnet.cli.config import defaults
from numnet.cli.sweep.space import Param, load_space, space_digest
from numnet.errors import ConfigError

pytest.importorskip("optuna")


def _load(tmp_path, text: str, name: str = "space.toml", fixed=None, typed=()):
    path = tmp_path / name
    path.write_text(text)
    return load_space(path, {**defaults(), **(fixed or {})}, set(typed))


GOOD = """
optimizer = ["adam", "sgd"]
augment = [true, false]

[lr]
low = 1e-4
high = 0.1
log = true

[batch-size]
low = 32
high = 128
step = 32

[hidden_dims]
choices = [[64], [128, 64], 32]
"""


def test_kinds_follow_the_flags(tmp_path):
    params = {p.key: p for p in _load(tmp_path, GOOD)}
    assert list(params) == ["optimizer", "augment", "lr", "batch_size", "hidden_dims"]
    assert params["lr"] == Param("lr", "float", low=1e-4, high=0.1, log=True)
    assert params["batch_size"] == Param("batch_size", "int", low=32, high=128, step=32)
    assert params["hidden_dims"].choices == ([64], [128, 64], [32])  # a bare 32 is [32]
    assert params["hidden_dims"].labels == ["64", "128 64", "32"]
    assert params["augment"].choices == (True, False)


def test_suggest_gives_values_as_train_takes_them(tmp_path):
    optuna = pytest.importorskip("optuna")
    params = _load(tmp_path, GOOD)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    trial = study.ask()
    values = {p.key: p.suggest(trial) for p in params}
    assert isinstance(values["hidden_dims"], list)
    assert isinstance(values["batch_size"], int) and values["batch_size"] % 32 == 0
    assert 1e-4 <= values["lr"] <= 0.1
    assert isinstance(trial.params["hidden_dims"], str)  # Optuna stores "128 64"


def test_yaml_space(tmp_path):
    params = _load(tmp_path, "lr:\n  low: 0.001\n  high: 0.01\ndropout: [0.5, 1.0]\n", "s.yaml")
    assert [p.key for p in params] == ["lr", "dropout"]


def test_digest_changes_with_space_and_fixed_settings(tmp_path):
    params = _load(tmp_path, GOOD)
    other = _load(tmp_path, GOOD.replace("high = 0.1", "high = 0.2"))
    assert space_digest(params, defaults()) == space_digest(params, defaults())
    assert space_digest(params, defaults()) != space_digest(other, defaults())
    assert space_digest(params, defaults()) != space_digest(params, {**defaults(), "epochs": 3})
    quiet = {**defaults(), "quiet": True, "data_dir": "/elsewhere"}
    assert space_digest(params, defaults()) == space_digest(params, quiet)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[hiden-dims]\nchoices = [[8]]\n", "not a numnet train flag; did you mean 'hidden-dims'"),
        ("[out-dir]\nchoices = ['a']\n", "'out-dir' cannot be swept"),
        ("[lr]\nlow = 0.1\nhigh = 0.01\n", "low must be below high"),
        ("[lr]\nlow = 0\nhigh = 0.1\nlog = true\n", "a log range needs low > 0"),
        ("[lr]\nlow = 0.1\nhigh = 1\nlog = true\nstep = 0.1\n", "step and log"),
        ("[lr]\nlow = 0.1\nhigh = 1\nstep = 0.4\n", "multiple of step"),
        ("[epochs]\nlow = 1\nhigh = 2.5\n", "must be an integer"),
        ("[lr]\nhigh = 1\n", "needs 'low'"),
        ("[lr]\nlow = 0.1\nhigh = 1\nlo = 2\n", "unknown field 'lo'"),
        ("lr = 0.1\n", "give a fixed value as a flag"),
        ("[lr]\nchoices = []\n", "choices must be a non-empty list"),
        ("[optimizer]\nlow = 1\nhigh = 2\n", "not a number flag"),
        ("[lr]\nlow = -1\nhigh = 0.1\n", "'lr' bound -1.0 is refused by numnet train: --lr"),
        ("dropout = [0.5, 1.5]\n", "'dropout' choice 1.5 is refused by numnet train: --dropout"),
        ("optimizer = ['adam', 'lion']\n", "choice 'lion' is refused by numnet train"),
        ("[lr\n", "is not valid TOML"),
        ("lr = [" + ", ".join(["0.1"] * 1001) + "]\n", "at most 1000 choices"),
        ("", "sweeps nothing"),
    ],
)
def test_bad_space_is_one_error(tmp_path, text, expected):
    with pytest.raises(ConfigError, match="space file") as info:
        _load(tmp_path, text)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_swept_and_fixed_at_once(tmp_path):
    with pytest.raises(ConfigError, match="both swept and fixed"):
        _load(tmp_path, "[lr]\nlow = 0.01\nhigh = 0.1\n", fixed={"lr": 0.5}, typed={"lr"})


def test_a_value_valid_with_some_other_swept_value_is_accepted(tmp_path):
    # --lr-decay 0.5 does not go with the cosine schedule, but does with the constant one
    params = _load(tmp_path, "schedule = ['constant', 'cosine']\nlr-decay = [0.5, 1.0]\n")
    assert len(params) == 2
    with pytest.raises(ConfigError, match="'lr-decay' choice 0.5 is refused"):
        _load(tmp_path, "schedule = ['cosine']\nlr-decay = [0.5, 1.0]\n")


def test_bad_fixed_flag_is_named_as_the_flag(tmp_path):
    with pytest.raises(ConfigError, match=r"^--dropout 1.5"):
        _load(tmp_path, "lr = [0.01, 0.1]\n", fixed={"dropout": 1.5}, typed={"dropout"})


def test_cli_bad_space_one_line_exit_2_nothing_created(tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text("[hidden-dimz]\nchoices = [[8]]\n")
    sweep_dir = tmp_path / "sweep"
    code = main(["sweep", "--space", str(space), "--trials", "2", "--sweep-dir", str(sweep_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("numnet: error: space file")
    assert "did you mean 'hidden-dims'" in err
    assert not sweep_dir.exists()


def test_cli_space_file_that_is_not_a_file(tmp_path, capsys):
    code = main(["sweep", "--space", str(tmp_path), "--trials", "2"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "is a directory" in err


def test_optuna_is_imported_only_when_a_sweep_runs():
    import subprocess
    import sys

    code = (
        "import sys; from numnet.cli.parser import build_parser; build_parser(); "
        "import numnet.cli.sweep.command, numnet.cli.sweep.show, numnet.cli.sweep.workers; "
        "print('optuna' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
