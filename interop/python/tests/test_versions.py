"""The same peer on the oldest grpcio of interop/python/versions/ (`build.py --version=VERSION`).

The module builds that release once (build/versions/python/VERSION/{venv,gen}; the first build
downloads its wheels from PyPI, later ones find everything up to date in about a second), then
runs its client against the default (grpcio 1.85) server — seeds cases, and the scripted sample
of test_scripted.py compared observation by observation with the default client's — and the
default client against its server. Marked `old_grpcio`: it runs in the normal pytest invocation;
`-m "not old_grpcio"` leaves it out (e.g. offline).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from peers import PEER_DIR, SINGLE_PROCESS_CASES, RunningServer, run_client, running_server

pytestmark = pytest.mark.old_grpcio

REPO = PEER_DIR.parent.parent
BUILD = PEER_DIR / "build.py"
VERSIONS = PEER_DIR / "versions"
SAMPLE = REPO / "test" / "fixtures" / "scripted-sample.json"
# A cold build downloads about 60 MB of wheels and installs them: minutes on a slow machine.
BUILD_TIMEOUT_SECONDS = 900
# An up-to-date build only compares stamps.
UP_TO_DATE_SECONDS = 30


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


OLDEST = min((path.parent.name for path in VERSIONS.glob("*/requirements.txt")), key=_release)
OLDEST_DIR = REPO / "build" / "versions" / "python" / OLDEST


def build(*args: str, timeout: float = BUILD_TIMEOUT_SECONDS) -> subprocess.CompletedProcess[str]:
    # The interpreter the runner builds with (matrix.yaml: `python3 interop/python/build.py`):
    # the venv's stamp names its interpreter, so building with another would recreate it.
    python3 = shutil.which("python3") or getattr(sys, "_base_executable", sys.executable)
    return subprocess.run(
        [python3, str(BUILD), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def oldest_python() -> Path:
    """The oldest release's venv interpreter, built (or found up to date)."""
    run = build(f"--version={OLDEST}")
    assert run.returncode == 0, run.stderr
    python = OLDEST_DIR / "venv" / "bin" / "python"
    assert python.is_file() and (OLDEST_DIR / "gen").is_dir()
    return python


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_the_venv_holds_exactly_the_pins(oldest_python: Path) -> None:
    freeze = subprocess.run(
        [str(oldest_python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {item["name"].lower().replace("_", "-"): item["version"] for item in json.loads(freeze.stdout)}
    installed.pop("pip")
    pins = _pins(VERSIONS / OLDEST / "requirements.txt")
    assert installed == pins
    assert pins["grpcio"] == pins["grpcio-tools"] == pins["grpcio-status"] == OLDEST


def test_a_second_build_is_up_to_date(oldest_python: Path) -> None:
    started = time.monotonic()
    run = build(f"--version={OLDEST}", timeout=UP_TO_DATE_SECONDS * 4)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started < UP_TO_DATE_SECONDS
    assert f"build/versions/python/{OLDEST}/venv is up to date" in run.stderr
    assert f"build/versions/python/{OLDEST}/gen/ is up to date" in run.stderr


def test_an_unknown_version_fails_with_one_line() -> None:
    run = build("--version=0.0.1", timeout=60)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith("build.py: error: no interop/python/versions/0.0.1/requirements.txt: to add grpcio 0.0.1, ")
    assert run.stderr.count("\n") == 1


@pytest.mark.parametrize("which", ["oldest", "default"])
def test_the_peer_takes_the_gen_beside_its_venv(which: str, oldest_python: Path) -> None:
    python, gen = (oldest_python, OLDEST_DIR / "gen") if which == "oldest" else (Path(sys.executable), PEER_DIR / "gen")
    probe = "import sys; sys.path.insert(0, sys.argv[1]); from interop_peer import protos; print(protos.GEN)"
    run = subprocess.run([str(python), "-c", probe, str(PEER_DIR)], capture_output=True, text=True, check=True)
    assert Path(run.stdout.strip()) == gen


def test_seeds_cases_from_the_oldest_client(oldest_python: Path, server: RunningServer) -> None:
    run = run_client(server.port, SINGLE_PROCESS_CASES, python=oldest_python)
    assert [record for record in run.records if record["status"] != "passed"] == []
    assert [record["case"] for record in run.records] == list(SINGLE_PROCESS_CASES)
    assert run.returncode == 0 and run.stderr == ""


def _observations(port: int, python: Path | str) -> dict[str, Any]:
    cases = list(json.loads(SAMPLE.read_text())["cases"])
    run = run_client(port, cases, f"--cases_file={SAMPLE}", "--rpc_timeout_ms=5000", python=python)
    assert run.returncode == 0, run.stderr
    assert [record["case"] for record in run.records] == cases
    assert all(record["status"] == "passed" for record in run.records), run.records
    return {str(record["case"]): _without_timing(record["observed"]) for record in run.records}


def _without_timing(value: Any) -> Any:
    """RequestInfo's timeout_ms (the deadline left when the handler started) differs run to run."""
    if isinstance(value, dict):
        return {key: _without_timing(item) for key, item in value.items() if key != "timeout_ms"}
    if isinstance(value, list):
        return [_without_timing(item) for item in value]
    return value


def test_scripted_cases_from_the_oldest_client_observe_what_the_default_one_does(
    oldest_python: Path, server: RunningServer
) -> None:
    default = _observations(server.port, sys.executable)
    oldest = _observations(server.port, oldest_python)
    # The one difference is the library's: grpcio 1.62.3 (and 1.70.0) refuses a non-ASCII metadata value
    # before the call (grpc_call_start_batch returns GRPC_CALL_ERROR_INVALID_METADATA, which
    # cygrpc raises as ValueError "metadata was invalid: ..."); 1.85.1's gRPC core fails the call
    # INTERNAL "Invalid metadata" instead (grpc/grpc#41371).
    assert default.pop("non_ascii_metadata") == {"status": {"code": 13, "message": "Invalid metadata"}}
    assert oldest.pop("non_ascii_metadata") == {"local_error": "ValueError: metadata was invalid: ('x-text', 'café')"}
    assert oldest == default


def test_the_oldest_server_answers_the_default_client(oldest_python: Path) -> None:
    with running_server(python=oldest_python) as old_server:
        run = run_client(old_server.port, ["server_info_version", "greeter_say_hello", "stream_bidi"])
    assert [record["status"] for record in run.records] == ["passed"] * 3, run.records
    assert run.records[0]["observed"] == {"language": "python", "implementation": "grpcio", "version": OLDEST}
