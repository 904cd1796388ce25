"""The suite's size is a promise (issue 17: at least 10,000 cases per CI run): this sums every
property test's max_examples in the folder and fails when the total drops below it.

The sum counts what hypothesis is asked for; each test's strategy space is far larger than its
count (a seed or a value draw in every case), so every one runs its full count (check with
`pytest tests/property --hypothesis-show-statistics`)."""
import importlib
import inspect
import pathlib

from prop_strategies import examples

PROMISED_CASES = 10_000


def case_counts():
    """{module: {test: max_examples}} over the test_prop_*.py files beside this one."""
    counts = {}
    for path in sorted(pathlib.Path(__file__).parent.glob("test_prop_*.py")):
        module = importlib.import_module(path.stem)
        tests = {name: fn._hypothesis_internal_use_settings.max_examples
                 for name, fn in inspect.getmembers(module, inspect.isfunction)
                 if name.startswith("test_") and getattr(fn, "is_hypothesis_test", False)}
        if tests:
            counts[path.stem] = tests
    return counts


def test_the_suite_runs_at_least_ten_thousand_cases():
    counts = case_counts()
    per_file = {m: sum(t.values()) for m, t in counts.items()}
    total = sum(per_file.values())
    assert len(per_file) >= 9, f"property files missing: only {sorted(per_file)}"
    assert total >= examples(PROMISED_CASES), f"{total} cases per run ({per_file}); the promise is {PROMISED_CASES}"


def test_every_property_test_states_its_count():
    """A test without its own @settings(max_examples=...) would run hypothesis' default count silently."""
    for path in sorted(pathlib.Path(__file__).parent.glob("test_prop_*.py")):
        module = importlib.import_module(path.stem)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if getattr(fn, "is_hypothesis_test", False):
                assert getattr(fn, "_hypothesis_internal_settings_applied", False), \
                    f"{path.stem}.{name} has no @settings(max_examples=examples(...)) of its own"
