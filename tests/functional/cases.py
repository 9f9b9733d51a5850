"""The one table of layer cases: every public forward in ``numnet.layers`` appears here."""

from __future__ import annotations

from tests.functional.cases_dense import CASES as DENSE_CASES
from tests.functional.cases_spatial import CASES as SPATIAL_CASES

CASES = [*DENSE_CASES, *SPATIAL_CASES]
