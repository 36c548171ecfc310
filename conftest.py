"""pytest set-up shared by the unit tests and nbval: everything runs offline."""

import os

from tools.offline_env import apply


def pytest_configure(config):
    # Set here, before nbval starts any kernel, so the kernels inherit it.
    apply(os.environ)
    # matplotlib builds its font cache on first import and says so on stderr: do it here, not
    # inside lesson 04's chart cell, where that line would become an extra output for nbval.
    import matplotlib.font_manager  # noqa: F401
