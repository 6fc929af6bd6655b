"""`python -m pipeline` is `campus-synth`."""

import sys

from pipeline.cli import main

sys.exit(main())
