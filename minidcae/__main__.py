"""`python -m minidcae`: the command line (minidcae.cli), as the README runs it under torchrun."""

import sys

from .cli import main

sys.exit(main())
