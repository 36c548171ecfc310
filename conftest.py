"""pytest set-up shared by the unit tests and nbval: everything runs offline.

The suite runs on every core (pytest-xdist, `-n auto --dist loadfile` in pyproject.toml, with
one worker more than cores): the tests of one file stay on one worker, so a notebook's cells
and its exercise checks share one kernel, and the browser and hub tests one JupyterLab or hub.
`slow` marks what `python3 course.py test --quick` leaves out: the files that start servers,
browsers, hubs, kernels or fresh Pythons, and the lessons' exercise checks.
"""

import os
import sys
from pathlib import Path

import pytest

from tools.offline_env import apply

# tests/ holds the lesson-checks plugin and the probes it reads (pytest puts it on sys.path for
# the test files only once it imports them).
sys.path.insert(0, str(Path(__file__).parent / "tests"))
pytest_plugins = ["lesson_checks"]  # each lesson's exercise checks, after nbval runs the lesson

# Heaviest first: the workers start on these, so the longest file does not start last.
SLOW_FILES = (
    "test_e2e_browser.py",
    "test_hub.py",
    "test_e2e_layout.py",
    "test_korean_track.py",
    "test_live_check.py",
    "test_course_start.py",
    "test_doctor.py",
    "test_fuzz.py",
    "test_offline_server_load.py",
    "test_offline_encodings.py",
    "test_binder.py",
    "test_keys.py",
)


# CI's fresh copies of the course (one a Python, tests/test_course_start.py) take minutes each:
# each is a unit of its own for xdist, and they start first.
FRESH_COPY = "test_course_start.py::test_a_fresh_copy_sets_up_and_passes_with["


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadFileScheduling

    class FilesAndFreshCopies(LoadFileScheduling):
        """--dist loadfile, but each fresh copy on a worker of its own."""

        def _split_scope(self, nodeid: str) -> str:
            return nodeid if FRESH_COPY in nodeid else super()._split_scope(nodeid)

    return FilesAndFreshCopies(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than the machine has cores. About a third of the suite's time
    is spent waiting on browsers, servers and kernels; the extra worker runs tests meanwhile."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own setting wins
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1


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
    # xdist hands out whole files in this order (--no-loadscope-reorder in pyproject.toml): the
    # slow files, then the lessons (each with its exercise checks), then the quick unit tests.
    rank = {name: i for i, name in enumerate(SLOW_FILES)}

    def order(item) -> int:
        path = Path(str(item.path))
        if FRESH_COPY in item.nodeid:
            return -1
        return rank.get(path.name, len(rank) + (path.suffix != ".ipynb"))

    items.sort(key=order)
