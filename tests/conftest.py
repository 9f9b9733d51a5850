"""Project-wide pytest settings.

Tests marked ``integration`` need the Fashion-MNIST files
(``apt-get install dataset-fashion-mnist``). They skip when the files are absent, except where
``NUMNET_REQUIRE_DATA=1`` (set by ``.ci/run``): there a skip of an integration test is turned into
a failure, so CI cannot pass without running them.
"""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and os.environ.get("NUMNET_REQUIRE_DATA") == "1"
        and item.get_closest_marker("integration") is not None
    ):
        report.outcome = "failed"
        report.longrepr = f"integration test skipped but NUMNET_REQUIRE_DATA=1: {report.longrepr}"


@pytest.fixture(autouse=True, scope="session")
def _torch_on_one_thread():
    """PyTorch oracles run single-threaded: their float64 calls on tiny arrays are many times
    slower with two threads on a shared 2-core machine, and one thread changes no result."""
    import sys

    torch = sys.modules.get("torch")  # imported at collection by the parity tests, if at all
    if torch is not None:
        torch.set_num_threads(1)
    yield
