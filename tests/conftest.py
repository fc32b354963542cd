"""Root test configuration: the shared database-backend fixtures (``backend``, ``db``,
``fresh_url``; see ``tests/db_backends.py``) for every test folder, and the test tiers.

Tiers (README "Tests"): the whole suite runs in parallel (pytest-xdist) in CI; the fast tier
for development leaves out the tests marked ``slow`` (whole pipeline worlds on both backends,
the crash test, the demo) and ``spark`` (a JVM in local mode). Tests are marked here, by
module, so the list of slow modules is one legible place rather than decorators scattered
over files; a test that uses the ``spark`` fixture is marked ``spark`` automatically.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["db_backends"]

#: Modules whose tests build whole worlds, kill processes or run the demo (seconds each).
SLOW_MODULES = frozenset(
    {
        "tests/interop/test_crash_recovery.py",
        "tests/test_demo.py",
        "tests/synth/test_pipeline_run.py",
        "tests/synth/test_to_world.py",
        "tests/bulk/test_bulk_equivalence.py",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath
    for item in items:
        try:
            rel = item.path.relative_to(root).as_posix()
        except ValueError:
            continue
        if rel in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)
