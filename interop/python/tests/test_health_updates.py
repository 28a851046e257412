"""script.set_health and Health/Watch's updates (docs/peer-contract.md, "Health" and step 2 of the
scripted handler), with the faults health-watch-no-updates, health-watch-silent,
health-serving-any and health-services-not-serving, and the statuses outliving a restart.

The real server runs (server.py; on the older grpcio releases too, when built); the calls are made
from this process with the generated stubs. Nothing is timed but the deadlines of the streams that
must stay silent: what a stream did not send is seen as its deadline passing with nothing read, and
what it did send is read without a deadline of consequence. (The coded case health_watch_updates
runs in test_discovery.py, against this server on every release and under each fault.)
"""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from peers import release_pythons, running_server
from test_scripted_restart import restartable_server, wait_for_line

from interop_peer.faults import Fault
from interop_peer.protos import health_pb2, health_pb2_grpc, scripted_pb2, scripted_pb2_grpc
from interop_peer.scripted_service import REQUEST_INFO_KEY
from interop_peer.support import SETTABLE_STATUSES, HealthStatuses

HealthCheckResponse = health_pb2.HealthCheckResponse
# A generous deadline for a call that must end OK.
TIMEOUT = 10.0
# The deadline of a stream that must send nothing more: only ever a lower bound of the wait.
SILENT_SECONDS = 1.0


def fresh(label: str) -> str:
    """A service name no earlier test has set (the statuses last as long as the server process)."""
    return f"test.{label}.{secrets.token_hex(8)}"


def status_name(status: int) -> str:
    return str(HealthCheckResponse.ServingStatus.Name(status))


class Health:
    """Health and Scripted/Unary on one channel to a server."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._health = health_pb2_grpc.HealthStub(channel)
        self.scripted = scripted_pb2_grpc.ScriptedStub(channel)

    def set(self, *changes: tuple[str, str], **script: Any) -> scripted_pb2.ScriptedResponse:
        """Scripted/Unary whose script sets these (service, status) in order."""
        health = [scripted_pb2.HealthChange(service=service, status=status) for service, status in changes]
        request = scripted_pb2.ScriptedRequest(script=scripted_pb2.Script(set_health=health, **script))
        return self.scripted.Unary(request, timeout=TIMEOUT)

    def check(self, service: str) -> str:
        """Check's status by name; NOT_FOUND for an unknown name."""
        try:
            return status_name(self._health.Check(health_pb2.HealthCheckRequest(service=service), timeout=TIMEOUT).status)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND, error
            return "NOT_FOUND"

    def watch(self, service: str, timeout: float = TIMEOUT) -> Any:
        return self._health.Watch(health_pb2.HealthCheckRequest(service=service), timeout=timeout)


def next_status(watch: Any) -> str:
    return status_name(next(watch).status)


def sends_nothing_more(watch: Any) -> bool:
    """Whether the stream ends at its deadline with no further message."""
    try:
        next(watch)
    except grpc.RpcError as error:
        return error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    return False


@contextmanager
def health_of(port: int) -> Iterator[Health]:
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.enable_http_proxy", 0)]) as channel:
        yield Health(channel)


@contextmanager
def health_server(*flags: str, python: str | Path = sys.executable) -> Iterator[Health]:
    with running_server(*flags, python=python) as server, health_of(server.port) as health:
        yield health


@pytest.fixture(scope="module")
def health() -> Iterator[Health]:
    with health_server() as running:
        yield running


# --- Check and Watch, on every release ----------------------------------------------------------


@pytest.mark.parametrize("python", release_pythons())
def test_a_set_name_becomes_known_to_check(python: Path) -> None:
    service = fresh("check")
    with health_server(python=python) as health:
        assert health.check(service) == "NOT_FOUND"
        for status in ("SERVING", "UNKNOWN", "NOT_SERVING"):
            health.set((service, status))
            assert health.check(service) == status
        # Entries are applied in order: the last one of a name wins.
        health.set((service, "SERVING"), (service, "UNKNOWN"))
        assert health.check(service) == "UNKNOWN"
        # A served service and the whole server ("") take a set status too.
        health.set(("helloworld.Greeter", "NOT_SERVING"), ("", "NOT_SERVING"))
        assert (health.check("helloworld.Greeter"), health.check("")) == ("NOT_SERVING", "NOT_SERVING")
        assert health.check("compute.Compute") == "SERVING"


@pytest.mark.parametrize("python", release_pythons())
def test_every_watch_of_the_name_is_told_each_new_status_once(python: Path) -> None:
    service, other = fresh("watched"), fresh("other")
    with health_server(python=python) as health:
        first, second, elsewhere = health.watch(service), health.watch(service), health.watch(other)
        try:
            for watch in (first, second, elsewhere):
                assert next_status(watch) == "SERVICE_UNKNOWN"
            health.set((service, "SERVING"))
            assert (next_status(first), next_status(second)) == ("SERVING", "SERVING")
            # The same status again sends nothing: the next message is the next change.
            health.set((service, "SERVING"))
            health.set((service, "NOT_SERVING"))
            assert (next_status(first), next_status(second)) == ("NOT_SERVING", "NOT_SERVING")
            health.set((service, "UNKNOWN"))
            assert next_status(first) == "UNKNOWN"
            # A stream started now begins with the status set, and is told like the others.
            late = health.watch(service)
            assert next_status(late) == "UNKNOWN"
            health.set((service, "SERVING"))
            assert (next_status(first), next_status(late)) == ("SERVING", "SERVING")
            # The other name's stream was told nothing of these: its next message is its own change.
            health.set((other, "NOT_SERVING"))
            assert next_status(elsewhere) == "NOT_SERVING"
            late.cancel()
        finally:
            for watch in (first, second, elsewhere):
                watch.cancel()


def test_a_watch_of_a_served_name_is_told_when_it_is_set(health: Health) -> None:
    # "helloworld.StreamingGreeter" is left alone by every other test of this module's server.
    watch = health.watch("helloworld.StreamingGreeter")
    try:
        assert next_status(watch) == "SERVING"
        health.set(("helloworld.StreamingGreeter", "NOT_SERVING"))
        assert next_status(watch) == "NOT_SERVING"
    finally:
        watch.cancel()


# --- a status name that cannot be set -------------------------------------------------------------


@pytest.mark.parametrize("status", ["SERVICE_UNKNOWN", "serving", "", "BOGUS", "1"])
def test_an_unknown_status_name_ends_the_call_invalid_argument(health: Health, status: str) -> None:
    before, named, after = fresh("before"), fresh("named"), fresh("after")
    with pytest.raises(grpc.RpcError) as error:
        health.set((before, "SERVING"), (named, status), (after, "SERVING"))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details() == (
        f'scripted: set_health: unknown status "{status}" for service "{named}" '
        "(expected SERVING, NOT_SERVING, UNKNOWN)"
    )
    # RequestInfo still goes, in the trailer; the entries before the bad one are set, not the rest.
    trailers = dict(error.value.trailing_metadata())
    info = scripted_pb2.RequestInfo.FromString(trailers[REQUEST_INFO_KEY])
    assert [change.status for change in info.requests[0].script.set_health] == ["SERVING", status, "SERVING"]
    assert (health.check(before), health.check(named), health.check(after)) == ("SERVING", "NOT_FOUND", "NOT_FOUND")


def test_an_unknown_status_name_sends_nothing(health: Health) -> None:
    """Before anything is sent: no scripted header, no reply of a server stream."""
    script = scripted_pb2.Script(
        set_health=[scripted_pb2.HealthChange(service=fresh("stream"), status="NOPE")],
        headers=[scripted_pb2.Metadatum(key="x-early", values=["1"])],
        send_headers_first=True,
        replies=[scripted_pb2.Reply(), scripted_pb2.Reply()],
    )
    call = health.scripted.ServerStream(scripted_pb2.ScriptedRequest(script=script), timeout=TIMEOUT)
    with pytest.raises(grpc.RpcError) as error:
        next(call)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "x-early" not in dict(call.initial_metadata() or ())


# --- the faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("python", release_pythons())
def test_health_watch_no_updates_sends_the_first_status_only(python: Path) -> None:
    service = fresh("no-updates")
    with health_server(f"--fault={Fault.HEALTH_WATCH_NO_UPDATES}", python=python) as health:
        watch = health.watch(service, timeout=SILENT_SECONDS)
        assert next_status(watch) == "SERVICE_UNKNOWN"
        health.set((service, "SERVING"))
        # Check answers the status set, and a stream started now begins with it ...
        assert health.check(service) == "SERVING"
        late = health.watch(service, timeout=SILENT_SECONDS)
        assert next_status(late) == "SERVING"
        health.set((service, "NOT_SERVING"))
        # ... but no stream is told of a change.
        assert sends_nothing_more(watch) and sends_nothing_more(late)


def test_health_watch_silent_sends_nothing_even_after_set_health() -> None:
    service = fresh("silent")
    with health_server(f"--fault={Fault.HEALTH_WATCH_SILENT}") as health:
        watch = health.watch(service, timeout=SILENT_SECONDS)
        health.set((service, "SERVING"))
        assert health.check(service) == "SERVING"
        assert sends_nothing_more(watch)


def test_a_set_status_wins_over_the_health_faults() -> None:
    faults = f"--fault={Fault.HEALTH_SERVING_ANY},{Fault.HEALTH_SERVICES_NOT_SERVING}"
    unset, named = fresh("unset"), fresh("named")
    with health_server(faults) as health:
        assert (health.check("helloworld.Greeter"), health.check(unset)) == ("NOT_SERVING", "SERVING")
        health.set(("helloworld.Greeter", "SERVING"), (named, "NOT_SERVING"))
        assert (health.check("helloworld.Greeter"), health.check(named)) == ("SERVING", "NOT_SERVING")
        # The names not set keep the faults' answers.
        assert (health.check("compute.Compute"), health.check(unset)) == ("NOT_SERVING", "SERVING")
        watch = health.watch(named)
        assert next_status(watch) == "NOT_SERVING"
        watch.cancel()


# --- per process: a restart keeps the statuses ----------------------------------------------------


def test_the_statuses_outlive_a_restart(tmp_path: Path) -> None:
    service = fresh("restart")
    with restartable_server(tmp_path) as (server, log):
        with health_of(server.port) as health:
            health.set((service, "NOT_SERVING"), restart_server_after_ms=100)
        wait_for_line(log, "restart: serving again on")
        with health_of(server.port) as health:
            assert health.check(service) == "NOT_SERVING"
            watch = health.watch(service)
            assert next_status(watch) == "NOT_SERVING"
            health.set((service, "SERVING"))
            assert next_status(watch) == "SERVING"
            watch.cancel()


# --- the table, in this process ------------------------------------------------------------------


def test_the_table_tells_the_watchers_of_the_name_only() -> None:
    statuses = HealthStatuses()
    watched, other = threading.Event(), threading.Event()
    assert statuses.get("a") is None
    with statuses.watching("a", watched), statuses.watching("b", other):
        statuses.set("a", SETTABLE_STATUSES["NOT_SERVING"])
        assert watched.is_set() and not other.is_set()
    assert statuses.get("a") == HealthCheckResponse.NOT_SERVING
    watched.clear()
    statuses.set("a", SETTABLE_STATUSES["SERVING"])  # no longer watching
    assert not watched.is_set() and statuses.get("a") == HealthCheckResponse.SERVING
    assert statuses._watchers == {}  # noqa: SLF001 (every stream that ended is forgotten)


def test_the_settable_statuses_are_the_contracts() -> None:
    assert SETTABLE_STATUSES == {
        "SERVING": HealthCheckResponse.SERVING,
        "NOT_SERVING": HealthCheckResponse.NOT_SERVING,
        "UNKNOWN": HealthCheckResponse.UNKNOWN,
    }
