"""`python -m devkafka`."""

import sys

from devkafka.cli import main

sys.exit(main())
