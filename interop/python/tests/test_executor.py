"""Executor mode (docs/peer-contract.md, "Executor mode"): one `client.py --executor` process runs
request after request from stdin as the one-shot client would run their flags, each followed by its
end line on stdout and on stderr; bad flags and bad lines are answered, and the executor goes on.

Every wait is bounded: a reader thread per pipe feeds a queue, read with a deadline, so a hang
fails the test instead of blocking it."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from peers import CLIENT, CLIENT_TRANSPORT_FLAGS, RunningServer, closed_port, running_server
from test_interop import assert_well_formed

from interop_peer import client_main, executor, scripted_executor
from interop_peer.executor import Exit

ANSWER_TIMEOUT_SECONDS = 60.0
EXIT_TIMEOUT_SECONDS = 10.0

Record = dict[str, Any]


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Every line of stream into lines, then None at end of file."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def _is_end_line(line: str, run: object) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("run") == run and "exit_code" in record


@dataclass
class Answer:
    records: list[Record]  # the case lines, in order
    end_line: str  # as printed, the same on stdout and on stderr
    stderr: list[str]  # what the request wrote to stderr before its end line there

    @property
    def end(self) -> Record:
        return json.loads(self.end_line)  # type: ignore[no-any-return]


class Executor:
    """client.py --executor as a subprocess, its stdin held open between requests."""

    def __init__(self, python: str | Path = sys.executable) -> None:
        self.process = subprocess.Popen(
            [str(python), str(CLIENT), "--executor"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: queue.Queue[str | None] = queue.Queue()
        self.stderr: queue.Queue[str | None] = queue.Queue()
        for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr)):
            threading.Thread(target=_pump, args=(stream, lines), daemon=True).start()

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def request(self, run: int, *args: str) -> Answer:
        self.send(json.dumps({"run": run, "args": list(args)}))
        return self.answer(run)

    def answer(self, run: object) -> Answer:
        """The next request's output, up to its end line on stdout and then on stderr (the same line)."""
        stdout = self._until_end(self.stdout, run, "stdout")
        stderr = self._until_end(self.stderr, run, "stderr")
        assert stdout[-1] == stderr[-1], (stdout[-1], stderr[-1])
        return Answer([json.loads(line) for line in stdout[:-1]], stdout[-1], stderr[:-1])

    @staticmethod
    def _until_end(lines: queue.Queue[str | None], run: object, name: str) -> list[str]:
        taken: list[str] = []
        while not taken or not _is_end_line(taken[-1], run):
            try:
                line = lines.get(timeout=ANSWER_TIMEOUT_SECONDS)
            except queue.Empty:
                waited = f"within {ANSWER_TIMEOUT_SECONDS} s"
                raise AssertionError(f"no end line for run {run} on {name} {waited}: {taken}") from None
            assert line is not None, f"the executor closed {name} before the end line of run {run}: {taken}"
            taken.append(line)
        return taken

    def close(self) -> int:
        """Ends stdin and returns the exit code, which must come promptly."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=EXIT_TIMEOUT_SECONDS)

    def leftovers(self) -> tuple[list[str], list[str]]:
        """What stdout and stderr carried after the last answer, once the process ended."""
        return self._rest(self.stdout), self._rest(self.stderr)

    @staticmethod
    def _rest(lines: queue.Queue[str | None]) -> list[str]:
        rest = []
        while (line := lines.get(timeout=EXIT_TIMEOUT_SECONDS)) is not None:
            rest.append(line)
        return rest


@pytest.fixture
def client() -> Iterator[Executor]:
    running = Executor()
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
        running.process.wait(timeout=EXIT_TIMEOUT_SECONDS)


def target(port: int) -> tuple[str, str]:
    return "--server_host=127.0.0.1", f"--server_port={port}"


def test_two_requests_in_one_process(server: RunningServer, client: Executor) -> None:
    first = client.request(7, *target(server.port), "--test_case=greeter_say_hello,compute_length")
    assert_well_formed(first.records, ["greeter_say_hello", "compute_length"])
    assert [record["status"] for record in first.records] == ["passed", "passed"]
    assert first.end == {"run": 7, "exit_code": 0} and first.stderr == []
    second = client.request(8, *target(server.port), "--test_case=stream_server")
    assert_well_formed(second.records, ["stream_server"])
    assert second.records[0]["status"] == "passed" and second.end == {"run": 8, "exit_code": 0}
    assert second.stderr == [] and client.process.poll() is None
    assert client.close() == 0 and client.leftovers() == ([], [])


def test_the_end_line_is_compact_json(server: RunningServer, client: Executor) -> None:
    for answer in (client.request(1, *target(server.port), "--test_case=greeter_say_hello"), client.request(2)):
        assert answer.end_line == json.dumps(answer.end, separators=(",", ":")) + "\n"
    assert list(answer.end) == ["run", "exit_code", "error"]


def test_a_failed_case_is_exit_code_1_with_its_reason_before_the_end_line(server: RunningServer, client: Executor) -> None:
    answer = client.request(1, *target(server.port), "--test_case=no_such_case,greeter_say_hello")
    assert_well_formed(answer.records, ["no_such_case", "greeter_say_hello"])
    assert answer.records[0]["error"] == "unknown test case: no_such_case" and answer.records[1]["status"] == "passed"
    assert answer.end == {"run": 1, "exit_code": 1}
    assert answer.stderr == ["client: no_such_case failed: unknown test case: no_such_case\n"]
    # The next request's stderr holds only its own lines.
    assert client.request(2, *target(server.port), "--test_case=greeter_say_hello").stderr == []


def test_an_unreachable_server_fails_in_bounded_time_and_the_next_request_runs(server: RunningServer, client: Executor) -> None:
    answer = client.request(1, *target(closed_port()), "--test_case=greeter_say_hello", "--rpc_timeout_ms=500")
    assert answer.end == {"run": 1, "exit_code": 1} and "UNAVAILABLE" in answer.records[0]["error"]
    assert client.request(2, *target(server.port), "--test_case=greeter_say_hello").end == {"run": 2, "exit_code": 0}


# Bad flags, each with (part of) its one-line reason.
HOST_PORT_CASE = ["--server_host=h", "--server_port=1", "--test_case=a"]
BAD_FLAGS = (
    (["--server_port=1", "--test_case=a"], "the following arguments are required: --server_host"),
    ([*HOST_PORT_CASE, "--nope"], "unrecognized arguments: --nope"),
    # Help would go to stdout, and exit the process: an unknown flag here.
    ([*HOST_PORT_CASE, "--help"], "unrecognized arguments: --help"),
    ([*HOST_PORT_CASE, "-h"], "unrecognized arguments: -h"),
    (["--help"], "the following arguments are required"),
    (["--server_host=h", "--server_port=1", "--bench=unary"], "--bench: load mode is not taken in executor mode"),
    ([*HOST_PORT_CASE, "--executor"], "unrecognized arguments: --executor"),
    ([*HOST_PORT_CASE, "--client_fault=nope"], "argument --client_fault"),
    ([*HOST_PORT_CASE, "--use_tls", "--use_test_ca", "--ca_file=/no/ca.pem"], "--ca_file: cannot read"),
    ([*HOST_PORT_CASE, "--cases_file=/no/cases.json"], "cannot read --cases_file"),
)


def test_bad_flags_are_exit_code_2_and_the_next_request_runs(server: RunningServer, client: Executor) -> None:
    for run, (args, reason) in enumerate(BAD_FLAGS):
        answer = client.request(run, *args)
        assert answer.records == [] and answer.end["exit_code"] == 2, (args, answer)
        assert set(answer.end) == {"run", "exit_code", "error"} and reason in answer.end["error"], (args, answer)
        # The reason the one-shot client writes to stderr, written there too.
        assert answer.stderr == [f"client: {answer.end['error']}\n"]
        good = client.request(100 + run, *target(server.port), "--test_case=greeter_say_hello")
        assert good.end == {"run": 100 + run, "exit_code": 0}, args


# Lines that are not requests: (line, the end line's run, part of the reason).
BAD_LINES = (
    ("not json", -1, "not JSON"),
    ('{"run":1,"args":[]', -1, "not JSON"),
    ("", -1, "not JSON"),
    ('{"run":NaN,"args":[]}', -1, "not JSON"),
    ("[1, 2]", -1, "not a JSON object"),
    ('{"args":["--test_case=a"]}', -1, "no numeric run"),
    ('{"run":"5","args":[]}', -1, "no numeric run"),
    ('{"run":true,"args":[]}', -1, "no numeric run"),
    ('{"run":5}', 5, "args is not a list of strings"),
    ('{"run":6,"args":"--test_case=a"}', 6, "args is not a list of strings"),
    ('{"run":7,"args":["--test_case=a",1]}', 7, "args is not a list of strings"),
)


def test_a_line_that_is_not_a_request_is_answered_and_the_next_request_runs(server: RunningServer, client: Executor) -> None:
    for line, run, reason in BAD_LINES:
        client.send(line)
        answer = client.answer(run)
        assert answer.records == [] and answer.stderr == [], line
        assert answer.end["exit_code"] == 2 and reason in answer.end["error"], (line, answer.end)
        assert client.request(8, *target(server.port), "--test_case=greeter_say_hello").end == {"run": 8, "exit_code": 0}


def test_a_line_that_is_not_utf8_is_answered(server: RunningServer) -> None:
    request = {"run": 2, "args": [*target(server.port), "--test_case=greeter_say_hello"]}
    process = subprocess.run(
        [sys.executable, str(CLIENT), "--executor"],
        input=b"\xff\xfe\n" + json.dumps(request).encode(),
        capture_output=True,
        timeout=ANSWER_TIMEOUT_SECONDS,
    )
    lines = [json.loads(line) for line in process.stdout.splitlines()]
    assert lines[0]["run"] == -1 and lines[0]["exit_code"] == 2 and "not JSON" in lines[0]["error"]
    # The last line, without its newline, is still a request.
    assert lines[1]["case"] == "greeter_say_hello" and lines[1]["status"] == "passed"
    assert lines[2:] == [{"run": 2, "exit_code": 0}] and process.returncode == 0


def test_a_client_fault_applies_to_its_request_only(client: Executor) -> None:
    with running_server("--fault=stream-truncate") as server:
        statuses = []
        for run, fault in enumerate(((), ("--client_fault=no-checks",), ())):
            answer = client.request(run, *target(server.port), "--test_case=stream_server", *fault)
            statuses.append((answer.records[0]["status"], answer.end["exit_code"]))
    assert statuses == [("failed", 1), ("passed", 0), ("failed", 1)]


def test_transports_change_from_request_to_request(
    server: RunningServer, tls_workers_server: RunningServer, mtls_workers_server: RunningServer, client: Executor
) -> None:
    servers = (("insecure", server), ("tls", tls_workers_server), ("mtls", mtls_workers_server), ("insecure", server))
    for run, (transport, running) in enumerate(servers):
        flags = CLIENT_TRANSPORT_FLAGS[transport]
        answer = client.request(run, *target(running.port), "--test_case=greeter_say_hello,empty_unary", *flags)
        assert answer.end == {"run": run, "exit_code": 0}, (transport, answer)
    # The TLS flags are the request's own: against the insecure server they fail.
    tls = CLIENT_TRANSPORT_FLAGS["tls"]
    answer = client.request(9, *target(server.port), "--test_case=greeter_say_hello", "--rpc_timeout_ms=1000", *tls)
    assert answer.end == {"run": 9, "exit_code": 1}


SCRIPTED_CASES = {"scripted_unary": {"method": "Unary", "requests": [{"script": {"code": 5, "message": "m"}}]}}


def test_a_scripted_case_of_a_cases_file_belongs_to_its_request(
    server: RunningServer, client: Executor, tmp_path: Path
) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": SCRIPTED_CASES}))
    scripted = client.request(1, *target(server.port), "--test_case=scripted_unary,greeter_say_hello", f"--cases_file={path}")
    assert [record["status"] for record in scripted.records] == ["passed", "passed"]
    assert scripted.records[0]["observed"]["status"] == {"code": 5, "message": "m"} and scripted.end["exit_code"] == 0
    # Without --cases_file, the name is no scripted case any more.
    plain = client.request(2, *target(server.port), "--test_case=scripted_unary")
    assert plain.records[0]["error"] == "unknown test case: scripted_unary" and plain.end["exit_code"] == 1
    again = client.request(3, *target(server.port), "--test_case=scripted_unary", f"--cases_file={path}")
    assert again.records[0]["observed"]["status"] == {"code": 5, "message": "m"} and again.end["exit_code"] == 0


def test_end_of_file_exits_0_promptly_after_printing_nothing(client: Executor) -> None:
    assert client.close() == 0 and client.leftovers() == ([], [])


def test_end_of_file_after_requests_exits_0(server: RunningServer, client: Executor) -> None:
    client.request(1, *target(server.port), "--test_case=greeter_say_hello")
    client.send(json.dumps({"run": 2, "args": [*target(server.port), "--test_case=stream_server"]}))
    # The request in flight is finished before the executor exits.
    assert client.close() == 0
    assert client.answer(2).end == {"run": 2, "exit_code": 0}


@pytest.mark.parametrize(
    "argv",
    [["--executor", "--server_host=h"], ["--test_case=a", "--executor"], ["--executor", "--help"]],
)
def test_executor_with_another_flag_exits_2(argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(CLIENT), *argv], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "--executor takes no other flag" in result.stderr


def test_a_defect_is_exit_code_1_and_the_executor_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    def run(args: list[str]) -> Exit:
        if args == ["defect"]:
            raise RuntimeError("boom")
        if args == ["exit"]:
            sys.exit(3)
        return Exit(0)

    lines = [json.dumps({"run": number, "args": [arg]}).encode() + b"\n" for number, arg in enumerate(("defect", "exit", "ok"))]
    assert executor.serve(run, lines) == 0
    captured = capsys.readouterr()
    ends = ['{"run":0,"exit_code":1}\n', '{"run":1,"exit_code":1}\n', '{"run":2,"exit_code":0}\n']
    assert captured.out == "".join(ends)
    assert "RuntimeError: boom" in captured.err and "SystemExit: 3" in captured.err
    assert [line + "\n" for line in captured.err.splitlines() if line.startswith('{"run"')] == ends


def test_a_run_closes_its_channels_even_when_a_defect_escapes(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def opens_a_channel_then_fails(names: object, peer: Any, *rest: object, **options: object) -> int:
        scripted_executor.shared_channel(peer)
        raise RuntimeError("defect")

    monkeypatch.setattr(client_main, "run_cases", opens_a_channel_then_fails)
    with pytest.raises(RuntimeError):
        client_main.run_flags([*target(server.port), "--test_case=a"], in_executor=True)
    assert scripted_executor._channels == {}


def test_the_one_shot_client_still_answers_help_and_bad_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        client_main.main(["--help"])
    assert exited.value.code == 0 and "--server_host" in capsys.readouterr().out
    assert client_main.main(["--server_host=h", "--server_port=1", "--bench=unary", "--test_case=a"]) == 2
    ended = client_main.run_flags(["--server_port=1"])
    assert ended.code == 2 and ended.error is not None and "--server_host" in ended.error
