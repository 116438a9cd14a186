"""``python -m mmconform.diff``: compare two servers (or a server and a recording)."""

import sys

from mmconform.diff._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
