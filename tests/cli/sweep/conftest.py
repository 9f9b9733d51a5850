"""Fixtures of the sweep tests: a fresh PostgreSQL database per test.

``NUMNET_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one:
``postgresql+psycopg2://postgres@127.0.0.1:55432/optuna``). Without it the tests that need it skip,
except in CI (``CI=true``), where they fail: CI must not pass without running them.
"""

from __future__ import annotations

import os
import uuid

import pytest

POSTGRES_ENV = "NUMNET_TEST_POSTGRES_URL"


@pytest.fixture
def postgres_url():
    """A SQLAlchemy URL of a new, empty database (dropped afterwards) on the test server."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        reason = f"{POSTGRES_ENV} is not set (a PostgreSQL server; .ci/run starts one)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    sqlalchemy = pytest.importorskip("sqlalchemy")
    name = f"numnet_test_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    url = sqlalchemy.engine.make_url(base).set(database=name)
    yield url.render_as_string(hide_password=False)
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()
