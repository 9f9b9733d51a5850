"""Weight initialisers: scale, dtype, reproducibility and argument checks."""

import numpy as np
import pytest

from numnet.errors import ConfigError
from numnet.init import gaussian, he_normal, init_weight, xavier_normal, xavier_uniform


def test_he_normal_has_std_sqrt_2_over_fan_in():
    w = he_normal(np.random.default_rng(0), 50, (400, 500), np.float64)
    assert w.shape == (400, 500)
    assert abs(w.std() - np.sqrt(2 / 50)) < 0.01 * np.sqrt(2 / 50)
    assert abs(w.mean()) < 0.005


def test_xavier_normal_and_uniform_scales():
    rng = np.random.default_rng(1)
    normal = xavier_normal(rng, 300, 100, (300, 100), np.float64)
    assert abs(normal.std() - np.sqrt(2 / 400)) < 0.02 * np.sqrt(2 / 400)
    uniform = xavier_uniform(rng, 300, 100, (300, 100), np.float64)
    limit = np.sqrt(6 / 400)
    assert uniform.min() >= -limit and uniform.max() <= limit
    assert abs(uniform.std() - limit / np.sqrt(3)) < 0.02 * limit


def test_gaussian_is_weight_scale_times_standard_normal():
    w = gaussian(np.random.default_rng(2), (3, 4), 1e-2, np.float64)
    expected = 1e-2 * np.random.default_rng(2).standard_normal((3, 4))
    np.testing.assert_array_equal(w, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_same_values_for_both_dtypes(dtype):
    w = he_normal(np.random.default_rng(3), 10, (10, 5), dtype)
    assert w.dtype == dtype
    w64 = he_normal(np.random.default_rng(3), 10, (10, 5), np.float64)
    np.testing.assert_allclose(w, w64, rtol=1e-6)


def test_same_seed_same_weights_different_seed_different():
    a = init_weight(np.random.default_rng(4), (6, 7), 6, 7, "xavier", None)
    b = init_weight(np.random.default_rng(4), (6, 7), 6, 7, "xavier", None)
    c = init_weight(np.random.default_rng(5), (6, 7), 6, 7, "xavier", None)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bad_arguments_raise_config_error():
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="fan_in"):
        he_normal(rng, 0, (2, 2))
    with pytest.raises(ConfigError, match="weight_scale"):
        gaussian(rng, (2, 2), -1.0)
    with pytest.raises(ConfigError, match="init"):
        init_weight(rng, (2, 2), 2, 2, "orthogonal", None)
    with pytest.raises(ConfigError, match="weight_scale"):
        init_weight(rng, (2, 2), 2, 2, None, None)
