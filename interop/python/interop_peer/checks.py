"""Assertions for the client's cases. Every failure names the RPC, its input, what was expected
and what came back, e.g. `SayHello("world"): expected "Hello, world!", got "Hello, world"`."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

import grpc
from google.protobuf import text_format
from google.protobuf.message import Message

T = TypeVar("T")
_MAX_SHOWN = 200


class CaseFailure(Exception):
    """A case's check failed; the message is the reason reported for the case."""


def show(value: object) -> str:
    """A value as the failure messages quote it: JSON for plain data, one-line text for messages."""
    if isinstance(value, Message):
        text = "{" + text_format.MessageToString(value, as_one_line=True, as_utf8=True) + "}"
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def call_label(method: str, request: Message) -> str:
    """`SayHello("world")` for a one-field request, `UserRecommend(user_id=1, …)` otherwise."""
    values = [(field.name, getattr(request, field.name)) for field in request.DESCRIPTOR.fields]
    if len(values) == 1:
        return f"{method}({show(values[0][1])})"
    return f"{method}({', '.join(f'{name}={show(value)}' for name, value in values)})"


def status_text(error: grpc.RpcError) -> str:
    call = cast(grpc.Call, error)
    return f"status {call.code().name}: {show(call.details() or '')}"


def succeeds(label: str, invoke: Callable[[], T]) -> T:
    """invoke()'s result; a failed RPC (error status, deadline) becomes a CaseFailure."""
    try:
        return invoke()
    except grpc.RpcError as error:
        raise CaseFailure(f"{label}: expected status OK, got {status_text(error)}") from None


def expect_equal(label: str, expected: object, got: object, what: str = "") -> None:
    if got != expected:
        subject = f"{what} " if what else ""
        raise CaseFailure(f"{label}: expected {subject}{show(expected)}, got {show(got)}")


def expect_items(label: str, expected: Sequence[object], got: Sequence[object], what: str) -> None:
    """got must equal expected item by item; a failure names the count, or the first item that differs."""
    expect_equal(label, len(expected), len(got), what=f"number of {what}")
    for index, (wanted, item) in enumerate(zip(expected, got, strict=True)):
        expect_equal(label, wanted, item, what=f"{what}[{index}]")


def expect_status(label: str, invoke: Callable[[], object], code: grpc.StatusCode, message_part: str) -> None:
    """invoke() must fail with `code` and a status message containing `message_part`."""
    wanted = f"status {code.name} with a message containing {show(message_part)}"
    try:
        result = invoke()
    except grpc.RpcError as error:
        call = cast(grpc.Call, error)
        if call.code() == code and message_part in (call.details() or ""):
            return
        raise CaseFailure(f"{label}: expected {wanted}, got {status_text(error)}") from None
    raise CaseFailure(f"{label}: expected {wanted}, got status OK and {show(result)}")


def expect_failure(label: str, invoke: Callable[[], object], code: grpc.StatusCode, message: str | None = None) -> None:
    """invoke() must fail with `code` (and exactly `message`, when given)."""
    wanted = f"status {code.name}" + ("" if message is None else f" with message {show(message)}")
    try:
        invoke()
    except grpc.RpcError as error:
        call = cast(grpc.Call, error)
        if call.code() == code and (message is None or call.details() == message):
            return
        raise CaseFailure(f"{label}: expected {wanted}, got {status_text(error)}") from None
    raise CaseFailure(f"{label}: expected {wanted}, got status OK")
