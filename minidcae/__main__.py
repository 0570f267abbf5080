"""`python -m minidcae`: the command line (minidcae.cli.main), as the README runs it under torchrun."""

import sys

from minidcae.cli.main import main

sys.exit(main())
