"""``python -m helpers._offline serve``: the same as ``python -m helpers.offline serve``, without
runpy's warning that helpers.offline was already imported by the helpers package."""

import sys

from .server import main

sys.exit(main())
