"""``python -m backendlab.grading``: see :mod:`backendlab.grading.cli`."""

import sys

from backendlab.grading.cli import main

sys.exit(main())
