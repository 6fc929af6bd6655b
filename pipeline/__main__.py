"""`python -m pipeline` is `campus-synth`."""

import sys

from pipeline._cli import main

sys.exit(main())
