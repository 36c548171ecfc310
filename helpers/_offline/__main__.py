"""``python -m helpers._offline serve [--port 8787]``: the offline model over HTTP."""

import sys

from .server import main

sys.exit(main())
