"""Config table, TOML loading, precedence and validation of ``numnet train`` settings."""

from __future__ import annotations

import math

import pytest

from numnet.cli.config import TRAIN_OPTIONS, defaults, load_toml, merge, validate
from numnet.errors import ConfigError


def write(tmp_path, text: str):
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def test_defaults_are_valid_and_cover_every_option():
    config = defaults()
    assert set(config) == {o.key for o in TRAIN_OPTIONS}
    validate(config)


def test_defaults_returns_fresh_lists():
    first = defaults()
    first["conv_channels"].append(7)
    assert 7 not in defaults()["conv_channels"]


def test_toml_accepts_dash_and_underscore_keys(tmp_path):
    path = write(tmp_path, 'hidden-dims = [64, 32]\nbatch_size = 16\nlr = 5e-4\nmodel = "cnn"\n')
    assert load_toml(path) == {
        "hidden_dims": [64, 32],
        "batch_size": 16,
        "lr": 5e-4,
        "model": "cnn",
    }


def test_toml_converts_int_to_float_and_scalar_to_list(tmp_path):
    settings = load_toml(write(tmp_path, "lr = 1\nhidden_dims = 50\n"))
    assert settings == {"lr": 1.0, "hidden_dims": [50]}
    assert isinstance(settings["lr"], float)


def test_flags_beat_file_beat_defaults(tmp_path):
    file_settings = load_toml(write(tmp_path, "epochs = 3\nlr = 0.5\n"))
    config = merge({"lr": 0.25}, file_settings)
    assert config["lr"] == 0.25  # flag wins over the file
    assert config["epochs"] == 3  # file wins over the default
    assert config["batch_size"] == defaults()["batch_size"]  # default otherwise


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("learning_rate = 0.1\n", "unknown key 'learning_rate'"),
        ("lr = \n", "not valid TOML"),
        ('epochs = "ten"\n', "'epochs' must be an integer"),
        ("lr = [0.1, 0.2]\n", "'lr' takes one value"),
        ("augment = 1\n", "'augment' must be true or false"),
        ('config = "other.toml"\n', "cannot be set in a config file"),
        ("epochs = 3\nepochs-x = 2\n", "unknown key 'epochs-x'"),
        ("batch-size = 2\nbatch_size = 3\n", "set twice"),
    ],
)
def test_bad_toml_raises_one_line_config_error(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as info:
        load_toml(write(tmp_path, text))
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_binary_toml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_toml(tmp_path / "nope.toml")
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00lr = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_toml(path)


@pytest.mark.parametrize(
    ("key", "value", "flag"),
    [
        ("lr", 0.0, "--lr"),
        ("lr", -1e-3, "--lr"),
        ("lr", math.nan, "--lr"),
        ("lr", math.inf, "--lr"),
        ("batch_size", 0, "--batch-size"),
        ("epochs", 0, "--epochs"),
        ("hidden_dims", [], "--hidden-dims"),
        ("hidden_dims", [10, 0], "--hidden-dims"),
        ("conv_channels", [-1], "--conv-channels"),
        ("dropout", 0.0, "--dropout"),
        ("dropout", 1.5, "--dropout"),
        ("val_fraction", 1.0, "--val-fraction"),
        ("val_fraction", -0.1, "--val-fraction"),
        ("momentum", 1.0, "--momentum"),
        ("weight_decay", -1.0, "--weight-decay"),
        ("clip_norm", -1.0, "--clip-norm"),
        ("reg", -0.5, "--reg"),
        ("label_smoothing", 1.0, "--label-smoothing"),
        ("label_smoothing", -0.1, "--label-smoothing"),
        ("early_stopping", -1, "--early-stopping"),
        ("max_train_samples", 0, "--max-train-samples"),
        ("warmup_epochs", 40, "--warmup-epochs"),
        ("optimizer", "lbfgs", "--optimizer"),
        ("schedule", "linear", "--schedule"),
        ("model", "rnn", "--model"),
    ],
)
def test_validate_rejects_bad_values_naming_the_flag(key, value, flag):
    config = defaults()
    config[key] = value
    with pytest.raises(ConfigError) as info:
        validate(config)
    assert str(info.value).startswith(flag + " ")


def test_validate_accepts_edge_values():
    config = defaults()
    config.update(dropout=1.0, val_fraction=0.0, max_train_samples=1, epochs=1, batch_size=1)
    validate(config)


def test_choices_are_the_librarys_names():
    """The parser's choices (kept here so that ``--help`` needs no NumPy) match the library's."""
    from numnet.cli import config
    from numnet.kernels.plan import MODES
    from numnet.optim import OPTIMIZERS
    from numnet.optim.schedules import SCHEDULE_NAMES

    assert config.OPTIMIZERS == tuple(OPTIMIZERS)
    assert config.SCHEDULES == tuple(SCHEDULE_NAMES)
    assert set(config.KERNELS) == set(MODES)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("dropout", 1.5, "dropout_keep_ratio"),  # FullyConnectedNet
        ("lr", 0.0, "learning rate"),  # the optimizer
        ("batch_size", 0, "batch_size must be"),  # the Solver
    ],
)
def test_ranges_are_judged_by_the_constructors(key, value, words):
    """The message is the constructor's own, after the flag and the value as given."""
    config = defaults()
    config[key] = value
    with pytest.raises(ConfigError) as info:
        validate(config)
    flag = "--" + key.replace("_", "-")
    assert str(info.value).startswith(f"{flag} {value}: {words}")


@pytest.mark.parametrize(
    ("changes", "flag"),
    [
        ({"model": "mlp", "conv_channels": [8, 0]}, "--conv-channels"),
        ({"optimizer": "adam", "momentum": 1.5}, "--momentum"),
    ],
)
def test_settings_the_chosen_model_ignores_are_still_judged(changes, flag):
    config = defaults()
    config.update(changes)
    with pytest.raises(ConfigError) as info:
        validate(config)
    assert str(info.value).startswith(flag + " ")


def test_a_message_naming_no_known_parameter_is_passed_on_unchanged():
    from numnet.cli.build import flag_error

    error = flag_error(ConfigError("something\n  odd happened"), defaults())
    assert isinstance(error, ConfigError)
    assert str(error) == "something odd happened"
