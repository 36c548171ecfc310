"""pytest set-up shared by the unit tests and nbval: everything runs offline.

The suite runs on every core (pytest-xdist, `-n auto --dist loadfile` in pyproject.toml): the
tests of one file stay on one worker, so a notebook's cells share one kernel and the browser
and hub tests one JupyterLab or hub. `slow` marks what `python3 course.py test --quick`
leaves out: the files that start servers, browsers, hubs, kernels or fresh Pythons.
"""

import os
from pathlib import Path

import pytest

from tools.offline_env import apply

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
    "test_doctor.py",
}


def pytest_configure(config):
    # Set here, before nbval starts any kernel, so the kernels inherit it.
    apply(os.environ)
    config.addinivalue_line("markers", "slow: starts servers, browsers or kernels (left out by test --quick)")
    # matplotlib builds its font cache on first import and says so on stderr: do it here, not
    # inside lesson 05's chart cell, where that line would become an extra output for nbval.
    import matplotlib.font_manager  # noqa: F401


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.path)).name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
