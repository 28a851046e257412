"""The generic executor of the data suites (docs/peer-contract.md, "Client: the generic executor").

A case of the `--cases_file` is an INSTRUCTION: which method of interop.scripted.Scripted to
call, with which metadata, deadline and requests, and when to cancel. The executor makes that call
with grpcio's sync API, checks nothing, and returns OBSERVED: exactly what grpcio gave it (headers,
responses, status, trailers, the rich details read by grpcio-status, the server's RequestInfo).
The runner judges (runner/src/scripted/).

Requests are built with grpcio's own means: `json_format.ParseDict` of the proto3 JSON.
Messages are reported with the contract's value encoding (`encode_message`): the declared fields
of the message's type that `ListFields()` reports present, integers as decimal strings (Python
`int`), floats as numbers (NaN, ±Infinity and −0 as strings), enums as their numbers (grpcio's
enums are ints), bytes as {"$bytes": hex}, map keys as text, `Any` unpacked when its type is known.

Unknown fields, both ways (member `$unknown`: lower-case hex of protobuf wire format):
- A JSON object of a request that stands for a message (the ScriptedRequest, `values`, `nested`,
  `children[i]`, `str_values[key]`, everything inside `script`…; not the well-known types such as
  `Any`, whose JSON is their own) may carry `$unknown`. It is taken out before ParseDict (which
  would refuse it), then its bytes are merged into the same sub-message of the parsed request with
  `MergeFromString`, protobuf's own means (field numbers the type does not declare become unknown
  fields; one it declares is merged as that field). A `$unknown` that is not a string of hex digit
  pairs, or bytes protobuf cannot parse, make the instruction one that cannot be run.
- Every message reported gets `$unknown` when grpcio kept unknown fields for it (absent when
  none): upb has no accessor for their raw bytes, so the fields of `UnknownFieldSet(message)` are
  encoded back to wire format, in order (`encode_unknown_fields`).

Deadlines, compression and message sizes:
- `timeout_ms` (0 to 31 622 400 000) is grpcio's `timeout=` as it is, in seconds. 0 is `timeout=-1`,
  a deadline a second before grpcio makes the call: `timeout=0` (a deadline at that moment) is not
  reliably expired, because gRPC core rounds a deadline up to its next millisecond
  (Timestamp::FromTimespecRoundUp), and on a fast loopback the call may reach a server that sees
  0 ms left and answers before core's timer fires. A long deadline is not capped here; gRPC core then rounds the grpc-timeout it sends up
  to its coarser units (src/core/lib/transport/timeout_encoding.cc, Timeout::FromSeconds /
  FromMinutes / FromHours), so the server may see up to 100 minutes (30 days) or an hour (a year)
  more than asked.
- `compression` is the call's `compression=` (grpc.Compression: identity, deflate, gzip). grpcio
  has no way to name any other algorithm (the argument is the enum; a string is a KeyError in
  grpc/_compression.py), so another name is reported as local_error and no call is made.
- `channel` makes a channel for the instruction alone, closed after it, with the transport
  flags' credentials and options plus grpc.max_receive_message_length /
  grpc.max_send_message_length and `compression=`. A length past 2**31 - 1 is refused by grpcio
  when the channel is made (OverflowError: core's channel arguments are C ints): local_error.
  `channel.server_name` (TLS only; ignored on insecure) takes the place of --server_host_override
  for that channel, given to grpcio as written by the flag's own means (tls.server_name_options:
  grpc.ssl_target_name_override, and grpc.default_authority as the flag sets it too); the channel
  still dials --server_host:--server_port. A certificate that does not match fails the handshake,
  which grpcio reports as the call's status (UNAVAILABLE), observed like any other.
  `channel.target` is what the channel dials instead: `{host}`, `{port}` and `{unix_socket}`
  replaced by --server_host, --server_port and --server_unix_socket (in one pass: a replacement
  is never read again), then given to grpc.insecure_channel / secure_channel untouched, so that
  gRPC core's resolvers parse it (`unix:PATH`, `unix:///PATH`, `ipv6:[::1]:PORT`, `dns:///…`);
  naming `{unix_socket}` without that flag makes the instruction one that cannot be run.
  `channel.authority` is the channel's grpc.default_authority, in place of the one the flag or
  server_name gives (gRPC core takes the first of two: never two). On TLS, gRPC core checks it:
  without a server name override the handshake checks the certificate against it (its port left
  out); with one, a call whose authority is neither the channel's name (the authority without
  its port) nor a name of the certificate fails before it is sent, UNAUTHENTICATED "call host
  does not match SSL server name" (observed like any other status).
  `channel.keepalive_time_ms`, `.keepalive_timeout_ms` and `.keepalive_permit_without_calls` are
  the channel's grpc.keepalive_time_ms, grpc.keepalive_timeout_ms and
  grpc.keepalive_permit_without_calls (0/1), given as they are.
  `channel.addresses` (never with `target`) makes one channel over every address, each a
  subchannel: the target `ipv4:A,B,…` of gRPC's naming doc (gRPC core's ipv4 resolver, which
  takes literal addresses), each address with `{host}` and `{port}` replaced as in `target`.
  `channel.lb_policy` (pick_first, round_robin) is the channel's default service config
  `{"loadBalancingConfig":[{"NAME":{}}]}`, the channel argument grpc.service_config (the ipv4
  resolver gives no service config of its own, so this one is used).
- `$fill_bytes` (top level of a request): taken out before ParseDict, then `values.by` is set to
  that many zero bytes.
- Bytes longer than 65 536 are reported as {"$sha256": hex, "$length": N} (encode_bytes_value).

Several calls of one instruction (_run_calls):
- `concurrent` N: the N calls are all made (grpcio starts a call when it is invoked: `future()` for
  the unary-response methods, the call object itself for the streaming-response ones, a sending
  thread of grpcio's for the request streams) before any is read or awaited; they are then read to
  their ends one after the other. The first is OBSERVED itself, the others its `concurrent`.
- `followups`: once every one of them has ended, each follow-up in order sleeps `after_ms` (absent:
  0), then is made on the same grpc.Channel object (the shared one, or the instruction's own), as
  grpcio then has it: a channel whose connection got a GOAWAY or broke is not replaced, and grpcio
  decides whether the call gets a new connection. Its members (method, metadata, requests,
  timeout_ms) are an instruction's; a request protobuf refuses is that follow-up's local_error.
- `{run}`: execute() draws one token per run of an instruction (16 hex digits, `secrets`) and
  replaces `{run}` with it in every JSON string value inside `requests`, the instruction's and
  every follow-up's (member names are left as they are), before anything else reads them.

Self-test (`--client_fault`, ExecutorFaults): `scripted-lenient` (`lenient`; it also leaves out
`compression` and `channel.compression`) "cleans" the instruction
before the call, as a client that hides what its library would refuse: every request's `values` is
left out before ParseDict sees it (a value protobuf refuses is then no local_error: the call is
made), and every text metadata value (a string under a key not ending in -bin) keeps only its
printable ASCII characters, under its key lower-cased. Binary metadata is left as it is.
`scripted-deadline-ignored` gives every call the --rpc_timeout_ms deadline, whatever `timeout_ms`
says. `scripted-client-limits-ignored` makes every channel of the executor (the shared one too)
take and send messages of any size: both limits -1, the instruction's `channel` lengths ignored.
`scripted-server-name-ignored` ignores `channel.server_name`: every channel checks the server's
certificate against --server_host_override. `scripted-target-ignored` ignores `channel.target`
and `channel.addresses` (every channel dials --server_host:--server_port; `lb_policy` still
applies), `scripted-authority-ignored` `channel.authority`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2  # noqa: F401  (registers the google.rpc types for Any)
from grpc_status import rpc_status

from .cases import Observed, Peer
from .compat import is_repeated, unknown_field_set
from .flags import (
    SCRIPTED_AUTHORITY_IGNORED,
    SCRIPTED_CLIENT_LIMITS_IGNORED,
    SCRIPTED_DEADLINE_IGNORED,
    SCRIPTED_LENIENT,
    SCRIPTED_SERVER_NAME_IGNORED,
    SCRIPTED_TARGET_IGNORED,
)
from .protos import scripted_pb2
from .tls import DEFAULT_AUTHORITY, server_name_options

SERVICE = scripted_pb2.DESCRIPTOR.services_by_name["Scripted"].full_name
REQUEST_INFO_KEY = "x-scripted-request-info-bin"
DETAILS_KEY = "grpc-status-details-bin"
HIDDEN_TRAILERS = frozenset({REQUEST_INFO_KEY, DETAILS_KEY})
# method → (client streaming, server streaming)
METHODS = {
    "Unary": (False, False),
    "ServerStream": (False, True),
    "ClientStream": (True, False),
    "BidiStream": (True, True),
}
INSTRUCTION_MEMBERS = frozenset(
    {
        "method",
        "metadata",
        "timeout_ms",
        "compression",
        "channel",
        "requests",
        "cancel_after_responses",
        "concurrent",
        "followups",
    }
)
# A follow-up's members: after_ms, then those of an instruction's call.
FOLLOWUP_MEMBERS = frozenset({"after_ms", "method", "metadata", "requests", "timeout_ms"})
CHANNEL_MEMBERS = (
    "max_receive_message_length",
    "max_send_message_length",
    "compression",
    "server_name",
    "target",
    "authority",
    "keepalive_time_ms",
    "keepalive_timeout_ms",
    "keepalive_permit_without_calls",
    "addresses",
    "lb_policy",
)
# The members of `channel` that are grpcio channel arguments taking an integer >= 0 as it is.
CHANNEL_INT_OPTIONS = {
    "max_receive_message_length": "grpc.max_receive_message_length",
    "max_send_message_length": "grpc.max_send_message_length",
    "keepalive_time_ms": "grpc.keepalive_time_ms",
    "keepalive_timeout_ms": "grpc.keepalive_timeout_ms",
}
# `{run}`, replaced in the requests by the token of the instruction's run.
RUN_PLACEHOLDER = "{run}"
# The placeholders of channel.target, by the client flag that replaces them (Peer's fields); those
# of each of channel.addresses.
TARGET_PLACEHOLDER = re.compile(r"\{(host|port|unix_socket)\}")
ADDRESS_PLACEHOLDER = re.compile(r"\{(host|port)\}")
# channel.lb_policy: the load-balancing policies an instruction may name.
LB_POLICIES = ("pick_first", "round_robin")
# The longest deadline an instruction may ask for (366 days).
MAX_TIMEOUT_MS = 31_622_400_000
# What grpcio can compress with, by the gRPC names the instructions use.
COMPRESSION = {
    "identity": grpc.Compression.NoCompression,
    "deflate": grpc.Compression.Deflate,
    "gzip": grpc.Compression.Gzip,
}
# grpcio's "no limit" for grpc.max_receive_message_length / grpc.max_send_message_length.
UNLIMITED = -1
# Bytes longer than this are reported by their digest and length.
LONG_BYTES = 65_536
FILL_MEMBER = "$fill_bytes"

Json = Any


class CasesFileError(Exception):
    """The --cases_file cannot be used (unreadable, not JSON, not {"cases": {NAME: {...}}})."""


class InstructionError(Exception):
    """An instruction the executor cannot run (unknown method, malformed request or metadata)."""


class EncodeRefused(Exception):
    """protobuf refused a request value (a string for an int64, 2**31 for an int32, a lone
    surrogate): the library refusing to encode it, reported as local_error, not a broken case."""


def load_cases(path: Path) -> dict[str, dict[str, Json]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CasesFileError(f"cannot read --cases_file {path}: {err}") from None
    cases = document.get("cases") if isinstance(document, dict) else None
    if not isinstance(cases, dict) or not all(isinstance(value, dict) for value in cases.values()):
        raise CasesFileError(f"--cases_file {path}: expected {{\"cases\": {{NAME: INSTRUCTION, ...}}}}")
    return cases


# --- the value encoding ----------------------------------------------------------------------

_INT_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)


def encode_float(value: float) -> Json:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 and math.copysign(1.0, value) < 0:
        return "-0"
    return value


def encode_bytes(value: bytes) -> Json:
    return {"$bytes": value.hex()}


def encode_bytes_value(value: bytes) -> Json:
    """A bytes field's value: its hex, or past LONG_BYTES its SHA-256 and length (a 4 MiB message
    stays a short line)."""
    if len(value) > LONG_BYTES:
        return {"$sha256": hashlib.sha256(value).hexdigest(), "$length": len(value)}
    return encode_bytes(value)


def encode_scalar(field: FieldDescriptor, value: Any) -> Json:
    kind = field.type
    if kind in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
        return encode_message(value)
    if kind == FieldDescriptor.TYPE_ENUM:
        return int(value)  # grpcio's enums are ints
    if kind in _INT_TYPES:
        return str(value)
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return encode_float(value)
    if kind == FieldDescriptor.TYPE_BOOL:
        return bool(value)
    if kind == FieldDescriptor.TYPE_BYTES:
        return encode_bytes_value(value) if isinstance(value, bytes) else value
    return value  # string


def encode_map_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)  # integers in decimal, strings as they are


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def encode_message(message: Message) -> dict[str, Json]:
    """One member per declared field that the library reports present (ListFields), in declaration
    order, then `$unknown` when the library kept unknown fields for the message."""
    if message.DESCRIPTOR.full_name == "google.protobuf.Any":
        return encode_any(message)  # the Any's own unknown fields have no place next to the unpacked ones
    present = {field.name for field, _ in message.ListFields()}
    encoded: dict[str, Json] = {}
    for field in message.DESCRIPTOR.fields:
        if field.name not in present:
            continue
        value = getattr(message, field.name)
        if _is_map(field):
            value_field = field.message_type.fields_by_name["value"]
            encoded[field.name] = {encode_map_key(key): encode_scalar(value_field, item) for key, item in value.items()}
        elif is_repeated(field):
            encoded[field.name] = [encode_scalar(field, item) for item in value]
        else:
            encoded[field.name] = encode_scalar(field, value)
    unknown = unknown_hex(message)
    if unknown:
        encoded[UNKNOWN_MEMBER] = unknown
    return encoded


def encode_any(any_message: Message) -> dict[str, Json]:
    """{"@type": URL, …fields} unpacked with protobuf's default pool, or {"@type", "$value"} when the
    type is not known there (or the bytes do not parse as it)."""
    url = any_message.type_url
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(url.rsplit("/", 1)[-1])
        inner = message_factory.GetMessageClass(descriptor)()
        if any_message.Unpack(inner):
            return {"@type": url, **encode_message(inner)}
    except (KeyError, DecodeError):
        pass
    return {"@type": url, "$value": encode_bytes(any_message.value)}


# --- unknown fields --------------------------------------------------------------------------

UNKNOWN_MEMBER = "$unknown"
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")  # what bytes.fromhex takes, without its whitespace
_WIRE_VARINT, _WIRE_FIXED64, _WIRE_LENGTH, _WIRE_START_GROUP, _WIRE_END_GROUP, _WIRE_FIXED32 = range(6)
_MASK64 = (1 << 64) - 1
_MASK32 = (1 << 32) - 1


def _varint(value: int) -> bytes:
    encoded = bytearray()
    while value > 0x7F:
        encoded.append(value & 0x7F | 0x80)
        value >>= 7
    encoded.append(value)
    return bytes(encoded)


def encode_unknown_fields(fields: Iterable[Any]) -> bytes:
    """The wire format of unknown fields as upb's UnknownFieldSet gives them (each with
    field_number, wire_type and data), in order: the tag, then varint data as a varint, fixed64 and
    fixed32 as 8 and 4 bytes little-endian, length-delimited data as its length then its bytes, a
    group as its nested fields then the end-group tag."""
    encoded = bytearray()
    for field in fields:
        number, wire_type, data = field.field_number, field.wire_type, field.data
        encoded += _varint(number << 3 | wire_type)
        if wire_type == _WIRE_VARINT:
            encoded += _varint(data & _MASK64)
        elif wire_type == _WIRE_FIXED64:
            encoded += (data & _MASK64).to_bytes(8, "little")
        elif wire_type == _WIRE_LENGTH:
            encoded += _varint(len(data)) + bytes(data)
        elif wire_type == _WIRE_FIXED32:
            encoded += (data & _MASK32).to_bytes(4, "little")
        elif wire_type == _WIRE_START_GROUP:
            encoded += encode_unknown_fields(data) + _varint(number << 3 | _WIRE_END_GROUP)
        else:
            raise ValueError(f"unknown field {number}: unexpected wire type {wire_type}")
    return bytes(encoded)


def unknown_hex(message: Message) -> str:
    """The unknown fields the library kept for message (not its sub-messages), as lower-case hex
    of their wire format; "" when none (or when the protobuf runtime cannot show them: compat)."""
    fields = unknown_field_set(message)
    return "" if fields is None else encode_unknown_fields(fields).hex()


# A step from a message to one of its sub-messages: (field, None) for a singular field,
# (field, index) for an element of a repeated field, (field, JSON key) for a map value.
_Step = tuple[FieldDescriptor, int | str | None]
_Path = tuple[_Step, ...]


def _path_text(root: str, path: _Path) -> str:
    text = root
    for field, selector in path:
        text += f".{field.name}" if selector is None else f".{field.name}[{json.dumps(selector)}]"
    return text


def _map_key(field: FieldDescriptor, key: str) -> Any:
    """A JSON map key as the map's key type (the text forms ParseDict accepts)."""
    key_type = field.message_type.fields_by_name["key"].type
    if key_type == FieldDescriptor.TYPE_BOOL:
        return key == "true"
    if key_type == FieldDescriptor.TYPE_STRING:
        return key
    return int(key)


def take_unknown(
    value: Json, descriptor: Descriptor, found: list[tuple[_Path, bytes]], root: str = "", path: _Path = ()
) -> Json:
    """value, the JSON of a message of type descriptor, without its `$unknown` members at every
    depth (a copy; value is left as it is). Each one's bytes go to `found` with the path of its
    message. Not inside the well-known types (google.protobuf.*: their JSON is their own, e.g.
    Any's). Members that are not fields, or not of the expected JSON type, are left for ParseDict
    to judge. InstructionError for a `$unknown` that is not a string of hex."""
    if not isinstance(value, dict) or descriptor.full_name.startswith("google.protobuf."):
        return value
    json_names = {field.json_name: field for field in descriptor.fields}
    cleaned: dict[str, Json] = {}
    for key, member in value.items():
        if key == UNKNOWN_MEMBER:
            where = _path_text(root, path)
            if not isinstance(member, str) or not _HEX.fullmatch(member):
                raise InstructionError(f"{where}: {UNKNOWN_MEMBER} is not a string of hex pairs: {json.dumps(member)}")
            found.append((path, bytes.fromhex(member)))
            continue
        field = descriptor.fields_by_name.get(key) or json_names.get(key)
        inner = field.message_type if field is not None else None
        if field is not None and inner is not None:
            if _is_map(field):
                value_type = inner.fields_by_name["value"].message_type
                if value_type is not None and isinstance(member, dict):
                    member = {
                        map_key: take_unknown(item, value_type, found, root, (*path, (field, map_key)))
                        for map_key, item in member.items()
                    }
            elif is_repeated(field):
                if isinstance(member, list):
                    member = [
                        take_unknown(item, inner, found, root, (*path, (field, index)))
                        for index, item in enumerate(member)
                    ]
            else:
                member = take_unknown(member, inner, found, root, (*path, (field, None)))
        cleaned[key] = member
    return cleaned


def add_unknown(message: Message, found: Iterable[tuple[_Path, bytes]], root: str = "") -> None:
    """Merges each `found` entry's bytes into the sub-message of message at its path
    (MergeFromString: field numbers the type does not declare are kept as unknown fields).
    InstructionError when protobuf cannot parse them."""
    for path, data in found:
        target = message
        for field, selector in path:
            container = getattr(target, field.name)
            if selector is None:
                target = container
            elif isinstance(selector, int):
                target = container[selector]
            else:
                target = container[_map_key(field, selector)]
        try:
            target.MergeFromString(data)
        except DecodeError as err:
            raise InstructionError(f"{_path_text(root, path)}: {UNKNOWN_MEMBER} {data.hex()}: {err}") from None


def encode_metadata(metadata: Sequence[tuple[str, Any]] | None, hidden: frozenset[str] = frozenset()) -> list[Json]:
    return [
        [key, encode_bytes(value) if isinstance(value, bytes) else value]
        for key, value in metadata or ()
        if key not in hidden
    ]


# --- the instruction -------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutorFaults:
    """The --client_faults that apply to scripted cases (self-test only)."""

    lenient: bool = False  # scripted-lenient
    deadline_ignored: bool = False  # scripted-deadline-ignored
    limits_ignored: bool = False  # scripted-client-limits-ignored
    server_name_ignored: bool = False  # scripted-server-name-ignored
    target_ignored: bool = False  # scripted-target-ignored
    authority_ignored: bool = False  # scripted-authority-ignored

    @classmethod
    def of(cls, client_fault: str | None) -> ExecutorFaults:
        return cls(
            lenient=client_fault == SCRIPTED_LENIENT,
            deadline_ignored=client_fault == SCRIPTED_DEADLINE_IGNORED,
            limits_ignored=client_fault == SCRIPTED_CLIENT_LIMITS_IGNORED,
            server_name_ignored=client_fault == SCRIPTED_SERVER_NAME_IGNORED,
            target_ignored=client_fault == SCRIPTED_TARGET_IGNORED,
            authority_ignored=client_fault == SCRIPTED_AUTHORITY_IGNORED,
        )


NO_FAULTS = ExecutorFaults()
_UNLIMITED_OPTIONS = (("grpc.max_receive_message_length", UNLIMITED), ("grpc.max_send_message_length", UNLIMITED))
_LIMIT_KEYS = frozenset(key for key, _ in _UNLIMITED_OPTIONS)


@dataclass(frozen=True)
class ChannelSpec:
    """An instruction's `channel`: the options of the channel made for it alone."""

    max_receive_message_length: int | None = None
    max_send_message_length: int | None = None
    compression: grpc.Compression | None = None
    # The name the server certificate must match instead of --server_host_override (TLS only).
    server_name: str | None = None
    # What the channel dials instead of --server_host:--server_port, placeholders unreplaced.
    target: str | None = None
    # The :authority the channel sends instead of the one grpcio derives (grpc.default_authority).
    authority: str | None = None
    # The client's keepalive pings (grpc.keepalive_time_ms, grpc.keepalive_timeout_ms,
    # grpc.keepalive_permit_without_calls); None: grpcio's default.
    keepalive_time_ms: int | None = None
    keepalive_timeout_ms: int | None = None
    keepalive_permit_without_calls: bool | None = None
    # The IPv4 host:port addresses the channel dials instead (one channel, a subchannel each),
    # placeholders unreplaced; never with target.
    addresses: tuple[str, ...] | None = None
    # The load-balancing policy of the channel's default service config (LB_POLICIES); None: grpcio's.
    lb_policy: str | None = None

    def peer(self, peer: Peer, server_name_ignored: bool = False, authority_ignored: bool = False) -> Peer:
        """The peer whose channel() makes this channel: `peer` with server_name in place of the
        flag's name, on TLS (insecure: no name to check) unless scripted-server-name-ignored, and
        with authority in place of any grpc.default_authority unless scripted-authority-ignored."""
        naming = peer.tls_options
        if self.server_name is not None and peer.credentials is not None and not server_name_ignored:
            naming = server_name_options(self.server_name)
        if self.authority is not None and not authority_ignored:
            others = tuple(option for option in naming if option[0] != DEFAULT_AUTHORITY)
            naming = (*others, (DEFAULT_AUTHORITY, self.authority))
        return peer if naming == peer.tls_options else dataclasses.replace(peer, tls_options=naming)

    def dialled(self, peer: Peer, target_ignored: bool = False) -> str | None:
        """The target this channel dials: `target` with its placeholders replaced by the peer's
        flags, or `ipv4:A,B,…` of `addresses` (theirs replaced); None (the peer's
        --server_host:--server_port) without either, or under scripted-target-ignored.
        InstructionError when the target names {unix_socket} and the client has no
        --server_unix_socket."""
        if target_ignored:
            return None
        flags = {"host": peer.host, "port": str(peer.port), "unix_socket": peer.unix_socket}
        if self.addresses is not None:
            replaced = (ADDRESS_PLACEHOLDER.sub(lambda match: flags[match.group(1)], text) for text in self.addresses)
            return "ipv4:" + ",".join(replaced)
        if self.target is None:
            return None

        def replacement(match: re.Match[str]) -> str:
            value = flags[match.group(1)]
            if value is None:
                raise InstructionError(
                    f"channel.target {json.dumps(self.target)} names {{unix_socket}}, and the client was given "
                    "no --server_unix_socket"
                )
            return value

        return TARGET_PLACEHOLDER.sub(replacement, self.target)

    def options(self, limits_ignored: bool = False) -> tuple[tuple[str, int | str], ...]:
        """The size limits, the keepalive settings and the load-balancing policy as grpcio channel
        options; both limits unlimited under scripted-client-limits-ignored (the others as given)."""
        options: list[tuple[str, int | str]] = list(_UNLIMITED_OPTIONS) if limits_ignored else []
        for member, key in CHANNEL_INT_OPTIONS.items():
            value = getattr(self, member)
            if value is not None and not (limits_ignored and key in _LIMIT_KEYS):
                options.append((key, value))
        if self.keepalive_permit_without_calls is not None:
            options.append(("grpc.keepalive_permit_without_calls", int(self.keepalive_permit_without_calls)))
        if self.lb_policy is not None:
            service_config = {"loadBalancingConfig": [{self.lb_policy: {}}]}
            options.append(("grpc.service_config", json.dumps(service_config, separators=(",", ":"))))
        return tuple(options)


@dataclass(frozen=True)
class Instruction:
    method: str
    client_streaming: bool
    server_streaming: bool
    metadata: tuple[tuple[str, Any], ...]
    timeout: float  # seconds
    requests: tuple[Message, ...]
    cancel_after: int | None  # responses received before cancelling; None: read to the end
    compression: grpc.Compression | None = None  # the call's compression=; None: the channel's
    # A `compression` grpcio has no algorithm for: the local_error reported instead of a call.
    compression_refused: str | None = None
    channel: ChannelSpec | None = None  # None: the run's shared channel
    concurrent: int = 1  # the calls made at once
    followups: tuple[Followup, ...] = ()


@dataclass(frozen=True)
class Followup:
    """A call made after the instruction's call(s) ended, on the same channel."""

    after_ms: int
    # The call (an Instruction with method, metadata, timeout and requests only); None when
    # protobuf refused one of its requests: local_error says why, and that follow-up makes no call.
    call: Instruction | None
    local_error: str | None = None


def _metadata_value(key: str, value: Json) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"$bytes"} and isinstance(value["$bytes"], str):
        try:
            return bytes.fromhex(value["$bytes"])
        except ValueError:
            pass
    raise InstructionError(f"metadata {key}: expected a string or {{\"$bytes\": hex}}, got {json.dumps(value)}")


def _printable_ascii(text: str) -> str:
    return "".join(char for char in text if 0x20 <= ord(char) <= 0x7E)


def lenient_metadata(metadata: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """scripted-lenient: text values (a string under a key not ending in -bin) keep only their
    printable ASCII characters, under their key lower-cased; binary metadata is unchanged; an
    entry whose lower-cased key has a character outside 0-9 a-z - _ . (":path") is left out."""
    return [
        (key.lower(), _printable_ascii(value)) if isinstance(value, str) and not key.endswith("-bin") else (key, value)
        for key, value in metadata
        if _LEGAL_KEY.fullmatch(key.lower())
    ]


_LEGAL_KEY = re.compile(r"[0-9a-z_.-]+")


def lenient_request(request_json: Json) -> Json:
    """scripted-lenient: the request without its `values` (sent with its script only)."""
    if isinstance(request_json, dict):
        return {member: value for member, value in request_json.items() if member != "values"}
    return request_json


def _is_count(value: Json) -> bool:
    """A JSON integer >= 0 (bool is an int in Python, and is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse_compression(value: Json) -> tuple[grpc.Compression | None, str | None]:
    """The instruction's `compression`: (grpc.Compression, None), or (None, the local_error) for a
    name grpcio has no algorithm for. InstructionError when it is not a string."""
    if not isinstance(value, str):
        raise InstructionError(f"compression: expected a string, got {json.dumps(value)}")
    algorithm = COMPRESSION.get(value)
    if algorithm is None:
        return None, (
            f"grpcio has no compression algorithm {json.dumps(value)}: a call's compression= is a "
            f"grpc.Compression, which has only {', '.join(COMPRESSION)}"
        )
    return algorithm, None


def parse_channel(value: Json) -> ChannelSpec:
    """The instruction's `channel`; InstructionError for anything but an object of CHANNEL_MEMBERS
    with integer lengths and keepalive times >= 0, a compression grpcio has, non-empty server_name,
    target and authority strings (kept exactly as written), a boolean
    keepalive_permit_without_calls, addresses a non-empty list of non-empty strings (not with
    target) and an lb_policy of LB_POLICIES."""
    if not isinstance(value, dict):
        raise InstructionError(f"channel: expected an object, got {json.dumps(value)}")
    unknown = set(value) - set(CHANNEL_MEMBERS)
    if unknown:
        raise InstructionError(
            f"channel: unknown member(s) {', '.join(sorted(unknown))} (expected {', '.join(CHANNEL_MEMBERS)})"
        )
    for member in CHANNEL_INT_OPTIONS:
        if member in value and not _is_count(value[member]):
            raise InstructionError(f"channel.{member}: expected an integer >= 0, got {json.dumps(value[member])}")
    permit = value.get("keepalive_permit_without_calls")
    if permit is not None and not isinstance(permit, bool):
        raise InstructionError(
            f"channel.keepalive_permit_without_calls: expected true or false, got {json.dumps(permit)}"
        )
    compression = None
    if "compression" in value:
        compression = COMPRESSION.get(value["compression"]) if isinstance(value["compression"], str) else None
        if compression is None:
            raise InstructionError(
                f"channel.compression: expected one of {', '.join(COMPRESSION)}, got {json.dumps(value['compression'])}"
            )
    for member in ("server_name", "target", "authority"):
        if member in value and not (isinstance(value[member], str) and value[member]):
            raise InstructionError(f"channel.{member}: expected a non-empty string, got {json.dumps(value[member])}")
    addresses = None
    if "addresses" in value:
        given = value["addresses"]
        if not (isinstance(given, list) and given and all(isinstance(text, str) and text for text in given)):
            raise InstructionError(
                f"channel.addresses: expected a non-empty list of non-empty strings, got {json.dumps(given)}"
            )
        if "target" in value:
            raise InstructionError("channel.addresses: not allowed with channel.target (give one or the other)")
        addresses = tuple(given)
    lb_policy = value.get("lb_policy")
    if "lb_policy" in value and lb_policy not in LB_POLICIES:
        raise InstructionError(f"channel.lb_policy: expected one of {', '.join(LB_POLICIES)}, got {json.dumps(lb_policy)}")
    return ChannelSpec(
        value.get("max_receive_message_length"),
        value.get("max_send_message_length"),
        compression,
        value.get("server_name"),
        value.get("target"),
        value.get("authority"),
        value.get("keepalive_time_ms"),
        value.get("keepalive_timeout_ms"),
        permit,
        addresses,
        lb_policy,
    )


def take_fill(request_json: Json, where: str) -> tuple[Json, int | None]:
    """(the request without its top-level `$fill_bytes`, that count or None)."""
    if not isinstance(request_json, dict) or FILL_MEMBER not in request_json:
        return request_json, None
    fill = request_json[FILL_MEMBER]
    if not _is_count(fill):
        raise InstructionError(f"{where}.{FILL_MEMBER}: expected an integer >= 0, got {json.dumps(fill)}")
    return {member: value for member, value in request_json.items() if member != FILL_MEMBER}, fill


def with_run(value: Json, token: str) -> Json:
    """value with `{run}` replaced by token in every string inside it (member names left alone)."""
    if isinstance(value, str):
        return value.replace(RUN_PLACEHOLDER, token)
    if isinstance(value, list):
        return [with_run(item, token) for item in value]
    if isinstance(value, dict):
        return {member: with_run(item, token) for member, item in value.items()}
    return value


def with_run_token(instruction: dict[str, Json], token: str) -> dict[str, Json]:
    """The instruction with `{run}` replaced by token inside its `requests` and every follow-up's
    (anything else, and members that are not what they should be, left for the parser to judge)."""
    replaced = dict(instruction)
    if "requests" in replaced:
        replaced["requests"] = with_run(replaced["requests"], token)
    followups = replaced.get("followups")
    if isinstance(followups, list):
        replaced["followups"] = [
            {**followup, "requests": with_run(followup["requests"], token)}
            if isinstance(followup, dict) and "requests" in followup
            else followup
            for followup in followups
        ]
    return replaced


def parse_followups(value: Json, default_timeout: float, lenient: bool, deadline_ignored: bool) -> tuple[Followup, ...]:
    """The instruction's `followups`: InstructionError (naming the follow-up) for anything but a list
    of objects of FOLLOWUP_MEMBERS whose call parses as an instruction's; a request protobuf refuses
    is that follow-up's local_error."""
    if not isinstance(value, list):
        raise InstructionError(f"followups: expected a list, got {json.dumps(value)}")
    followups = []
    for index, followup in enumerate(value):
        where = f"followups[{index}]"
        if not isinstance(followup, dict):
            raise InstructionError(f"{where}: expected an object, got {json.dumps(followup)}")
        unknown = set(followup) - FOLLOWUP_MEMBERS
        if unknown:
            raise InstructionError(f"{where}: unknown member(s) {', '.join(sorted(unknown))}")
        after_ms = followup.get("after_ms", 0)
        if not _is_count(after_ms):
            raise InstructionError(f"{where}.after_ms: expected an integer >= 0, got {json.dumps(after_ms)}")
        call_json = {member: item for member, item in followup.items() if member != "after_ms"}
        try:
            call = parse_instruction(call_json, default_timeout, lenient, deadline_ignored)
        except InstructionError as err:
            raise InstructionError(f"{where}: {err}") from None
        except EncodeRefused as err:
            followups.append(Followup(after_ms, None, str(err)))
            continue
        followups.append(Followup(after_ms, call))
    return tuple(followups)


def parse_instruction(
    instruction: dict[str, Json], default_timeout: float, lenient: bool = False, deadline_ignored: bool = False
) -> Instruction:
    unknown = set(instruction) - INSTRUCTION_MEMBERS
    if unknown:
        raise InstructionError(f"unknown instruction member(s): {', '.join(sorted(unknown))}")
    concurrent = instruction.get("concurrent", 1)
    if not (_is_count(concurrent) and concurrent >= 1):
        raise InstructionError(f"concurrent: expected an integer >= 1, got {json.dumps(concurrent)}")
    followups = (
        ()
        if "followups" not in instruction
        else parse_followups(instruction["followups"], default_timeout, lenient, deadline_ignored)
    )
    method = instruction.get("method")
    if method not in METHODS:
        raise InstructionError(f"unknown method {json.dumps(method)} (expected {', '.join(METHODS)})")
    client_streaming, server_streaming = METHODS[method]
    metadata = []
    for entry in instruction.get("metadata") or []:
        if not isinstance(entry, dict) or set(entry) != {"key", "value"} or not isinstance(entry["key"], str):
            raise InstructionError(f"metadata: expected {{\"key\": K, \"value\": V}}, got {json.dumps(entry)}")
        metadata.append((entry["key"], _metadata_value(entry["key"], entry["value"])))
    if lenient:
        metadata = lenient_metadata(metadata)
    timeout_ms = instruction.get("timeout_ms")
    if timeout_ms is not None and not (_is_count(timeout_ms) and timeout_ms <= MAX_TIMEOUT_MS):
        raise InstructionError(f"timeout_ms: expected an integer from 0 to {MAX_TIMEOUT_MS}, got {json.dumps(timeout_ms)}")
    compression, compression_refused = (
        (None, None) if "compression" not in instruction else parse_compression(instruction["compression"])
    )
    channel = None if "channel" not in instruction else parse_channel(instruction["channel"])
    requests_json = instruction.get("requests") or []
    if not isinstance(requests_json, list):
        raise InstructionError("requests: expected a list")
    if not client_streaming and len(requests_json) != 1:
        raise InstructionError(f"{method} takes exactly one request, got {len(requests_json)}")
    requests = []
    for index, request_json in enumerate(requests_json):
        if lenient:
            request_json = lenient_request(request_json)  # before ParseDict can refuse a value
        where = f"requests[{index}]"
        request_json, fill = take_fill(request_json, where)
        found: list[tuple[_Path, bytes]] = []
        request_json = take_unknown(request_json, scripted_pb2.ScriptedRequest.DESCRIPTOR, found, where)
        try:
            request = json_format.ParseDict(request_json, scripted_pb2.ScriptedRequest())
        except json_format.ParseError as err:
            raise EncodeRefused(f"{where}: {err}") from None
        add_unknown(request, found, where)
        if fill is not None:
            request.values.SetInParent()
            request.values.by = bytes(fill)
        requests.append(request)
    if lenient:
        # No compression is asked for, per call or per channel.
        compression, compression_refused = None, None
        if channel is not None:
            channel = dataclasses.replace(channel, compression=None)
    cancel_after = instruction.get("cancel_after_responses")
    if cancel_after is not None and (isinstance(cancel_after, bool) or not isinstance(cancel_after, int) or cancel_after < 0):
        raise InstructionError(f"cancel_after_responses: expected an integer >= 0, got {json.dumps(cancel_after)}")
    return Instruction(
        method=method,
        client_streaming=client_streaming,
        server_streaming=server_streaming,
        metadata=tuple(metadata),
        timeout=default_timeout if timeout_ms is None or deadline_ignored else (timeout_ms / 1000 if timeout_ms > 0 else -1.0),
        requests=tuple(requests),
        cancel_after=cancel_after,
        compression=compression,
        compression_refused=compression_refused,
        channel=channel,
        concurrent=concurrent,
        followups=followups,
    )


# --- the call --------------------------------------------------------------------------------


class _Sender:
    """The request iterator of a client stream: grpcio's sending thread takes one request at a
    time and asks for the next once it was sent; `done` is set when every request was taken (or
    the call ended first)."""

    def __init__(self, requests: Sequence[Message]) -> None:
        self._requests = requests
        self.done = threading.Event()

    def __iter__(self) -> Iterator[Message]:
        try:
            yield from self._requests
        finally:
            self.done.set()


def _observe(call: Any, responses: list[Message | None]) -> Observed:
    """What grpcio gave for a call that has ended."""
    observed: Observed = {}
    headers = encode_metadata(call.initial_metadata())
    if headers:
        observed["headers"] = headers
    if responses:
        # None: grpcio's result() of a unary call that ended OK without a response message.
        observed["responses"] = [None if response is None else encode_message(response) for response in responses]
    observed["status"] = {"code": call.code().value[0], "message": call.details() or ""}
    trailing = call.trailing_metadata()
    trailers = encode_metadata(trailing, HIDDEN_TRAILERS)
    if trailers:
        observed["trailers"] = trailers
    try:
        rich = rpc_status.from_call(call)
    except Exception as err:  # grpcio-status refuses details that contradict the status (ValueError)
        observed["details"] = {"error": str(err)}
    else:
        if rich is not None:
            observed["details"] = {"status": encode_message(rich)}
    info = next((value for key, value in trailing or () if key == REQUEST_INFO_KEY), None)
    if info is not None:
        try:
            observed["request_info"] = encode_message(scripted_pb2.RequestInfo.FromString(info))
        except DecodeError as err:
            observed["request_info"] = {"error": str(err)}
    return observed


def _wait_sent(sender: _Sender, call: Any) -> None:
    """Until every request was handed to grpcio or the call ended (bounded by its deadline)."""
    call.add_done_callback(lambda _: sender.done.set())
    sender.done.wait()


# The one channel per peer that every scripted case of a run uses, as one application would
# (keyed by the peer and whether scripted-client-limits-ignored lifts its limits).
_channels: dict[tuple[Peer, bool], grpc.Channel] = {}


def shared_channel(peer: Peer, limits_ignored: bool = False) -> grpc.Channel:
    """The run's channel to `peer`, made at its first scripted case (grpcio's default message
    size limits; both unlimited under scripted-client-limits-ignored)."""
    key = (peer, limits_ignored)
    channel = _channels.get(key)
    if channel is None:
        channel = _channels[key] = peer.channel(options=_UNLIMITED_OPTIONS if limits_ignored else ())
    return channel


def close_channels() -> None:
    """Closes the shared channels (at the end of a run)."""
    for channel in _channels.values():
        channel.close()
    _channels.clear()


# An instruction's own channel has a connection of its own: grpcio's global subchannel pool would
# give it the connection of an earlier channel with the same target and options that is closed but
# not yet gone (and any state a misbehaving peer left there, such as its HPACK table).
_OWN_CONNECTION = ("grpc.use_local_subchannel_pool", 1)


def run_instruction(peer: Peer, instruction: Instruction, faults: ExecutorFaults = NO_FAULTS) -> Observed:
    """Makes the call(s) and the follow-ups on the run's shared channel, or on a channel of the
    instruction's own (`channel`), closed after them. faults: the scripted client faults (those of
    the channels: limits, server name, target, authority). InstructionError when the channel's
    target cannot be made."""
    if instruction.compression_refused is not None:
        return {"local_error": instruction.compression_refused}
    spec = instruction.channel
    if spec is None:
        return _run_calls(shared_channel(peer, faults.limits_ignored), instruction)
    target = spec.dialled(peer, faults.target_ignored)
    try:
        channel = spec.peer(peer, faults.server_name_ignored, faults.authority_ignored).channel(
            target, options=(*spec.options(faults.limits_ignored), _OWN_CONNECTION), compression=spec.compression
        )
    except Exception as err:  # grpcio refused the channel's options (OverflowError past a C int)
        return {"local_error": f"{type(err).__name__}: {err}"}
    try:
        return _run_calls(channel, instruction)
    finally:
        channel.close()


def _run_calls(channel: grpc.Channel, instruction: Instruction) -> Observed:
    """The instruction's `concurrent` calls, every one started before any is read, then its
    follow-ups one by one on the same channel: the first call's OBSERVED, with the others'
    in `concurrent` and the follow-ups' in `followups`."""
    started = [_start_call(channel, instruction) for _ in range(instruction.concurrent)]
    first, *others = [_finish_call(call, instruction) for call in started]
    if others:
        first["concurrent"] = others
    if instruction.followups:
        first["followups"] = [_run_followup(channel, followup) for followup in instruction.followups]
    return first


def _run_followup(channel: grpc.Channel, followup: Followup) -> Observed:
    time.sleep(followup.after_ms / 1000)
    if followup.call is None:
        return {"local_error": followup.local_error}
    return _finish_call(_start_call(channel, followup.call), followup.call)


@dataclass(frozen=True)
class _Started:
    """A call grpcio has started: its call object (a future), and the sender of a request stream."""

    call: Any
    sender: _Sender | None


def _start_call(channel: grpc.Channel, instruction: Instruction) -> _Started | Observed:
    """Starts the call (grpcio sends it as it is invoked); OBSERVED instead when it ended at once
    or grpcio refused it."""
    path = f"/{SERVICE}/{instruction.method}"
    serializer = scripted_pb2.ScriptedRequest.SerializeToString
    deserializer = scripted_pb2.ScriptedResponse.FromString
    kwargs: dict[str, Any] = {"timeout": instruction.timeout, "metadata": instruction.metadata or None}
    if instruction.compression is not None:
        kwargs["compression"] = instruction.compression
    sender = None
    if instruction.client_streaming:
        sender = _Sender(instruction.requests)
        argument: Any = iter(sender)
    else:
        argument = instruction.requests[0]
    try:
        if instruction.server_streaming:
            factory = channel.stream_stream if instruction.client_streaming else channel.unary_stream
            call = factory(path, request_serializer=serializer, response_deserializer=deserializer)(
                argument, **kwargs
            )
        else:
            factory = channel.stream_unary if instruction.client_streaming else channel.unary_unary
            call = factory(path, request_serializer=serializer, response_deserializer=deserializer).future(
                argument, **kwargs
            )
    except grpc.RpcError as error:  # a call that ended at once: it is its own grpc.Call
        return _observe(error, [])
    except Exception as err:  # grpcio refused the call before it had a status
        return {"local_error": f"{type(err).__name__}: {err}"}
    return _Started(call, sender)


def _finish_call(started: _Started | Observed, instruction: Instruction) -> Observed:
    """Reads a started call to its end (cancelling it as the instruction says); its OBSERVED."""
    if not isinstance(started, _Started):
        return started
    call, sender = started.call, started.sender
    responses: list[Message | None] = []
    cancel_after = instruction.cancel_after
    if cancel_after == 0:
        if sender is not None:
            _wait_sent(sender, call)
        call.cancel()
    elif instruction.server_streaming:
        try:
            for response in call:
                responses.append(response)
                if cancel_after is not None and len(responses) >= cancel_after:
                    call.cancel()
                    break
        except grpc.RpcError:
            pass  # the call's status, read below
    else:
        try:
            responses.append(call.result())
        except (grpc.RpcError, grpc.FutureCancelledError):
            pass
    _wait_ended(call, instruction.timeout)
    return _observe(call, responses)


def _wait_ended(call: Any, timeout: float) -> None:
    """grpcio's call objects are futures: wait until the status is known. The deadline bounds it;
    the extra time only guards against a call grpcio never ends (then status blocks no longer:
    code() of a call still running would wait, so it is cancelled)."""
    ended = threading.Event()
    call.add_done_callback(lambda _: ended.set())
    if not ended.wait(timeout + 5):
        call.cancel()


def run_token() -> str:
    """The token `{run}` stands for in one run of an instruction: 16 random hex digits."""
    return secrets.token_hex(8)


def execute(peer: Peer, instruction_json: dict[str, Json], faults: ExecutorFaults = NO_FAULTS) -> Observed:
    """Runs one instruction; InstructionError when it cannot be run. faults: the scripted client faults."""
    instruction_json = with_run_token(instruction_json, run_token())
    try:
        instruction = parse_instruction(instruction_json, peer.timeout, faults.lenient, faults.deadline_ignored)
    except EncodeRefused as err:
        return {"local_error": str(err)}
    return run_instruction(peer, instruction, faults)
