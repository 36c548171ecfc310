"""pytest set-up shared by the unit tests and nbval: everything runs offline.

The suite runs on every core (pytest-xdist, `-n auto --dist loadgroup` in pyproject.toml).
Tests that share one expensive thing run in one worker, in order: a notebook's cells (one
kernel), a lesson's exercise probes (one executed lesson), the browser tests (one JupyterLab),
the hub tests (one hub). `slow` marks what `python3 course.py test --quick` leaves out.
"""

import os
import re
from pathlib import Path

import pytest

from tools.offline_env import apply

# Files whose tests start servers, browsers, hubs, kernels or fresh Pythons: the quick loop skips them.
SLOW_FILES = {
    "test_e2e_browser.py",
    "test_hub.py",
    "test_exercises.py",
    "test_korean_track.py",
    "test_fuzz.py",
    "test_offline_server_load.py",
    "test_live_check.py",
    "test_offline_encodings.py",
    "test_binder.py",
    "test_course_start.py",
    "test_keys.py",
}
# Files whose tests share a module-wide server, browser or hub: one worker runs them all.
ONE_WORKER = {"test_e2e_browser.py", "test_hub.py", "test_live_check.py"}


def pytest_configure(config):
    # Set here, before nbval starts any kernel, so the kernels inherit it.
    apply(os.environ)
    config.addinivalue_line("markers", "slow: starts servers, browsers or kernels (left out by test --quick)")
    # matplotlib builds its font cache on first import and says so on stderr: do it here, not
    # inside lesson 04's chart cell, where that line would become an extra output for nbval.
    import matplotlib.font_manager  # noqa: F401


def group_of(item) -> str | None:
    """The xdist group an item must share with others, or None when it can run anywhere."""
    path = Path(str(item.fspath))
    if path.suffix == ".ipynb":
        return f"nbval:{path.parent.name}/{path.name}"  # one kernel runs the cells in order
    if path.name in ONE_WORKER:
        return path.name
    if path.name == "test_exercises.py" and hasattr(item, "callspec"):
        lesson = item.callspec.params.get("filename")  # each lesson is executed once, in one worker
        return f"{path.name}:{lesson}" if lesson else None
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (its worker plugin registers late)
def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        if path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
        group = group_of(item)
        if group:  # xdist appends "@group" to the test's id: letters, digits, _ and - only
            item.add_marker(pytest.mark.xdist_group(re.sub(r"[^\w-]", "_", group)))
