#!/usr/bin/env python3
"""The Python peer's client. Run it with the peer's venv, from any directory:
`interop/python/.venv/bin/python interop/python/client.py --help`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interop_peer.client_main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
