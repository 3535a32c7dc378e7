"""``python -m rxresponses``: the ``rxresponses`` command line."""

import sys

from .cli import main

sys.exit(main())
