"""``python -m mmconform.diff``: compare two servers (or a server and a recording)."""

import sys

from mmconform.diff._cli import main

sys.exit(main())
