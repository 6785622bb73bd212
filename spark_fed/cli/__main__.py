"""`python -m spark_fed.cli`: how `serve` runs its migration child."""

import sys

from . import main

sys.exit(main())
