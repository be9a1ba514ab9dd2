"""Allow `python -m monitor ...` as well as the `news-monitor` script."""

import sys

from monitor.cli import main

sys.exit(main())
