"""``python -m mmconform.provision``: see ``mmconform provision --help``."""

from __future__ import annotations

import sys

from mmconform.provision._cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m mmconform.provision"))
