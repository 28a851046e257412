"""One compact JSON object per stdout line, flushed at once (the runner reads it live)."""

from __future__ import annotations

import json
import sys


def emit(record: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def listening(port: int) -> dict[str, object]:
    return {"event": "listening", "port": port}
