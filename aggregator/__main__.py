"""``python -m aggregator``: the ``aggregator`` command."""

import sys

from aggregator.app.cli import main

sys.exit(main())
