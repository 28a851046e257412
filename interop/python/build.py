#!/usr/bin/env python3
"""Build the Python (grpcio) peer: a pinned virtualenv plus code generated from protos/.

Usage (from any directory): python3 interop/python/build.py

1. Creates interop/python/.venv with this python3 (venv module). When requirements.txt (or the
   interpreter) changed since the last install, the venv is recreated and the pinned
   requirements installed, so no package outlives its pin; a stamp inside .venv records what
   was installed.
2. Regenerates interop/python/gen/ from scratch with grpc_tools.protoc over every .proto found
   under protos/ (recursively, so new protos are picked up without editing this file), except
   protos/google/ (see SKIPPED).

Everything it reports goes to stderr; failures exit 1 with a one-line reason, no traceback.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PROTOS = REPO / "protos"
VENV = HERE / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
REQUIREMENTS = HERE / "requirements.txt"
STAMP = VENV / "requirements.sha256"
GEN = HERE / "gen"


class BuildError(Exception):
    """A build step failed; the message is the one line shown to the user."""


def log(message: str) -> None:
    print(f"build.py: {message}", file=sys.stderr, flush=True)


def run(command: list[str], failure: str) -> str:
    """Runs command with its stdout captured and its stderr passed through; BuildError on failure."""
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    except OSError as err:
        raise BuildError(f"{failure} ({err})") from None
    if result.returncode != 0:
        sys.stderr.write(result.stdout)
        raise BuildError(failure)
    return result.stdout


def wanted_stamp() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(f"\n{sys.executable}\n{sys.version}".encode())
    return digest.hexdigest()


def ensure_venv() -> None:
    stamp = wanted_stamp()
    if STAMP.is_file() and STAMP.read_text().strip() == stamp and VENV_PYTHON.exists():
        log(f"{VENV.relative_to(REPO)} is up to date with {REQUIREMENTS.name}")
        return
    if VENV.exists():
        log(f"{REQUIREMENTS.name} or the interpreter changed: recreating {VENV.relative_to(REPO)}")
        shutil.rmtree(VENV)
    log(f"creating {VENV.relative_to(REPO)} with {sys.executable} ({sys.version.split()[0]})")
    run(
        [sys.executable, "-m", "venv", str(VENV)],
        "python3 -m venv failed: install the python3-venv package (e.g. apt-get install python3-venv)",
    )
    log(f"installing {REQUIREMENTS.name}")
    install = [str(VENV_PYTHON), "-m", "pip", "install", "--no-input", "--disable-pip-version-check"]
    run(
        [*install, "-r", str(REQUIREMENTS)],
        f"pip install -r {REQUIREMENTS.relative_to(REPO)} failed (pip's output is above)",
    )
    STAMP.write_text(stamp + "\n")


# protos/google/ (google/rpc/status.proto, error_details.proto) is there for the TypeScript peers,
# which have no package shipping them. Python takes them from googleapis-common-protos
# (google.rpc.status_pb2, error_details_pb2), the modules grpcio-status itself imports. Generating
# our own copies would put a second google/rpc/status.proto in protobuf's default descriptor pool
# (a "duplicate file name" error as soon as the two copies differ at all) and, gen/ being first on
# sys.path, could shadow the package's modules.
SKIPPED = ("google/",)


def find_protos() -> list[str]:
    protos = sorted(
        relative
        for relative in (path.relative_to(PROTOS).as_posix() for path in PROTOS.rglob("*.proto"))
        if not relative.startswith(SKIPPED)
    )
    if not protos:
        raise BuildError(f"no .proto files under {PROTOS}")
    return protos


def generate() -> None:
    protos = find_protos()
    bundled = run(
        [str(VENV_PYTHON), "-c", "import grpc_tools, os; print(os.path.dirname(grpc_tools.__file__))"],
        "grpc_tools is not importable in the venv: delete interop/python/.venv and build again",
    ).strip()
    if GEN.exists():
        shutil.rmtree(GEN)
    GEN.mkdir()
    protoc = [
        str(VENV_PYTHON),
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{Path(bundled) / '_proto'}",
        f"--python_out={GEN}",
        f"--pyi_out={GEN}",
        f"--grpc_python_out={GEN}",
    ]
    try:
        run([*protoc, *protos], "grpc_tools.protoc failed (its errors are above)")
    except BuildError:
        shutil.rmtree(GEN)
        raise
    log(f"generated {GEN.relative_to(REPO)}/ from {len(protos)} protos: {', '.join(protos)}")


def main() -> int:
    try:
        ensure_venv()
        generate()
    except BuildError as err:
        log(f"error: {err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
