"""The property-based suite (hypothesis) over deepcore's public op surface (issue 17).

Every run is the same run: the "deepcore-ci" profile is derandomized (each test's examples are
drawn from a seed derived from the test itself), keeps no example database between runs, has no
deadline (a shared 2-core machine times noisily) and prints the reproduction blob of a failure.
``DEEPCORE_HYPOTHESIS_PROFILE=deepcore-explore`` draws fresh random examples instead (for a
local bug hunt); ``DEEPCORE_PROPERTY_SCALE=10`` multiplies every test's example count
(prop_strategies.examples).

Each test's example count is written at the test (``@settings(max_examples=examples(N))``); the
sum over the folder is the case count of a CI run, and test_prop_budget.py keeps it >= 10,000.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

# The repo's tests/conftest.py resets global state once per test, not per example; no test here
# relies on that reset between its examples (each example seeds what it draws), so the
# function-scoped-fixture health check is a false alarm. too_slow / data_too_large: a few
# examples build layers or run three optimizer steps, which hypothesis' generation timer counts.
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("deepcore-ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=_QUIET)
settings.register_profile("deepcore-explore", derandomize=False, database=None, deadline=None, print_blob=True,
                          suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("DEEPCORE_HYPOTHESIS_PROFILE", "deepcore-ci"))

# Warnings the cases trigger on purpose: NumPy's references on NaN/inf/empty inputs (the values are
# compared, the warning says nothing), and torch's / deepcore's notes on degenerate but valid calls.
_EXPECTED_WARNINGS = (
    "ignore::RuntimeWarning",
    "ignore:.*degrees of freedom is <= 0:UserWarning",
    "ignore:Initializing zero-element tensors:UserWarning",
    "ignore:reduction. 'mean' divides:UserWarning",
)


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            for spec in _EXPECTED_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))
