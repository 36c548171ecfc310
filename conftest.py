"""pytest set-up shared by the unit tests and nbval: everything runs offline."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT / "tests"))

from offline_env import apply  # noqa: E402


def pytest_configure(config):
    # Set here, before nbval starts any kernel, so the kernels inherit it.
    apply(os.environ)
