"""``python -m simsearch``: the same as the ``simsearch`` console script."""

import sys

from .cli import main

sys.exit(main())
