"""The same peer on the oldest grpcio of interop/python/versions/ (`build.py --version=VERSION`).

The module builds that release once (build/versions/python/VERSION/{venv,gen}; the first build
downloads its wheels from PyPI, later ones find everything up to date in about a second), then
runs its client against the default (grpcio 1.85) server — seeds cases, and the scripted sample
of test_scripted.py compared observation by observation with the default client's — and the
default client against its server. It also runs `build.py --add=VERSION` (which writes a
versions/VERSION/requirements.txt from what pip installs in a temporary venv) on a copy of build.py
in a scratch tree, so the committed files are never rewritten. Marked `old_grpcio`: it runs in the
normal pytest invocation; `-m "not old_grpcio"` leaves it out (e.g. offline).
"""

from __future__ import annotations

import json
import os
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
# --add: a venv plus a pip install of about 20 MB of wheels (half a minute here), then a smoke test.
ADD_TIMEOUT_SECONDS = 300
# The release test_add_regenerates_the_committed_pins re-adds.
ADDED = "1.62.3"


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


OLDEST = min((path.parent.name for path in VERSIONS.glob("*/requirements.txt")), key=_release)
OLDEST_DIR = REPO / "build" / "versions" / "python" / OLDEST


def build(
    *args: str, timeout: float = BUILD_TIMEOUT_SECONDS, script: Path = BUILD, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # The interpreter the runner builds with (matrix.yaml: `python3 interop/python/build.py`):
    # the venv's stamp names its interpreter, so building with another would recreate it.
    python3 = shutil.which("python3") or getattr(sys, "_base_executable", sys.executable)
    command = [python3, str(script), *args]
    return subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, env=env)


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
    release = ("grpcio", "grpcio-tools", "grpcio-status", "grpcio-reflection")
    assert [pins[name] for name in release] == [OLDEST] * len(release)


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
    return {str(record["case"]): _without_varying(record["observed"]) for record in run.records}


# What RequestInfo reports that differs run to run: the deadline left when the handler started, and
# the client's address (its ephemeral port).
_VARYING = frozenset({"timeout_ms", "peer"})


def _without_varying(value: Any) -> Any:
    """value without RequestInfo's _VARYING members."""
    if isinstance(value, dict):
        return {key: _without_varying(item) for key, item in value.items() if key not in _VARYING}
    if isinstance(value, list):
        return [_without_varying(item) for item in value]
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


def _scratch_peer(tmp_path: Path, *versions: str) -> tuple[Path, dict[str, str]]:
    """A copy of build.py at tmp_path/repo/interop/python (so its repository root is tmp_path/repo)
    with copies of versions' folders, for --add to write into instead of the working tree; and an
    environment whose TMPDIR (where --add makes its temporary venv) is the empty tmp_path/tmp."""
    peer = tmp_path / "repo" / "interop" / "python"
    (peer / "versions").mkdir(parents=True)
    shutil.copy2(BUILD, peer / "build.py")
    for version in versions:
        shutil.copytree(VERSIONS / version, peer / "versions" / version)
    (tmp_path / "tmp").mkdir()
    return peer, {**os.environ, "TMPDIR": str(tmp_path / "tmp")}


def _pin_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("version", ["1.62", "1.62.3rc1", "v1.62.3", "1.62.3.0", "../1.62.3", ""])
def test_add_refuses_a_malformed_version_with_one_line(version: str) -> None:
    run = build(f"--add={version}", timeout=60)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (
        f"build.py: error: --add takes an exact grpcio release, digits.digits.digits (e.g. 1.62.3), not {version!r}\n"
    )


def test_add_refuses_a_release_pip_cannot_install(tmp_path: Path) -> None:
    peer, env = _scratch_peer(tmp_path)
    run = build("--add=9.9.9", timeout=ADD_TIMEOUT_SECONDS, script=peer / "build.py", env=env)
    assert (run.returncode, run.stdout) == (2, ""), run.stderr
    assert run.stderr.startswith("build.py: error: grpcio 9.9.9 cannot be installed here: ")
    assert "grpcio==9.9.9" in run.stderr and run.stderr.count("\n") == 1
    assert not (peer / "versions" / "9.9.9").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_add_regenerates_the_committed_pins(tmp_path: Path) -> None:
    committed = (VERSIONS / ADDED / "requirements.txt").read_text()
    peer, env = _scratch_peer(tmp_path, ADDED)
    run = build(f"--add={ADDED}", timeout=ADD_TIMEOUT_SECONDS, script=peer / "build.py", env=env)
    assert run.returncode == 0, run.stderr
    written = (peer / "versions" / ADDED / "requirements.txt").read_text()
    # The same pins, in the same order, as the hand-written file. Its comments (why each pin) are
    # not reproduced, so the two files differ there and only there.
    assert _pins(peer / "versions" / ADDED / "requirements.txt") == _pins(VERSIONS / ADDED / "requirements.txt")
    assert _pin_lines(written) == _pin_lines(committed)
    shown = f"interop/python/versions/{ADDED}/requirements.txt"
    protobuf = _pins(VERSIONS / ADDED / "requirements.txt")["protobuf"]
    assert run.stdout == ""
    assert run.stderr == (
        f"build.py: {shown} existed: refreshed it (pins unchanged)\n"
        f"build.py: pinned grpcio {ADDED} in {shown} (protobuf {protobuf})\n"
    )
    comments = " ".join(line[2:] for line in written.splitlines() if line.startswith("# "))
    assert comments.startswith(
        f"grpcio {ADDED}, for `python3 interop/python/build.py --version={ADDED}`, written by "
        f"`python3 interop/python/build.py --add={ADDED}` "
    )
    # Why protobuf is where it is: the range grpcio-tools 1.62.3 declares (Requires-Dist).
    assert f"grpcio-tools {ADDED} requires protobuf>=4.21.6,<5.0dev " in comments
    # Nothing left behind: no temporary venv, no partial file; the working tree's file untouched.
    assert list((tmp_path / "tmp").iterdir()) == []
    assert sorted(path.name for path in (peer / "versions" / ADDED).iterdir()) == ["requirements.txt"]
    assert (VERSIONS / ADDED / "requirements.txt").read_text() == committed
