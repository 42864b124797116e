"""``python -m conformance.report``: see :mod:`conformance.report.cli`."""

import sys

from .cli import main

sys.exit(main())
