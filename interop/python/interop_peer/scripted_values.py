"""The value faults of the scripted service (docs/peer-contract.md, "Server faults"): each changes
one kind of value in the replies' `values`, recursively (nested, children, map values and
choice_values included). Never applied to RequestInfo.

The walk is generic over the message's descriptor, so it covers every field of `Values` (scalars,
repeated, maps, proto3 `optional` and oneof members, nested messages) without naming them.
"""

from __future__ import annotations

import ctypes
import math
import sys
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from .compat import is_repeated
from .faults import Fault, Faults

VALUE_FAULTS = frozenset(
    {
        Fault.SCRIPTED_INT64_DOUBLE,
        Fault.SCRIPTED_ENUM_SHIFTED,
        Fault.SCRIPTED_MAP_KEYS_OFF,
        Fault.SCRIPTED_FLOATS_FLUSHED,
        Fault.SCRIPTED_BYTES_TRUNCATED,
        Fault.SCRIPTED_STRINGS_TRUNCATED,
        Fault.SCRIPTED_PRESENCE_LOST,
        Fault.SCRIPTED_REPEATED_TRUNCATED,
    }
)

_T = FieldDescriptor
# The 64-bit integer types and their ranges.
_INT64_RANGES = {
    _T.TYPE_INT64: (-(2**63), 2**63 - 1),
    _T.TYPE_SINT64: (-(2**63), 2**63 - 1),
    _T.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    _T.TYPE_UINT64: (0, 2**64 - 1),
    _T.TYPE_FIXED64: (0, 2**64 - 1),
}
_INT_RANGES = {
    **_INT64_RANGES,
    _T.TYPE_INT32: (-(2**31), 2**31 - 1),
    _T.TYPE_SINT32: (-(2**31), 2**31 - 1),
    _T.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    _T.TYPE_ENUM: (-(2**31), 2**31 - 1),
    _T.TYPE_UINT32: (0, 2**32 - 1),
    _T.TYPE_FIXED32: (0, 2**32 - 1),
}
_FLOAT32_MIN_NORMAL = 2.0**-126


def _wrap(value: int, field_type: int) -> int:
    """value brought back into the type's range modulo its size (map-keys-off's +1 on the maximum)."""
    low, high = _INT_RANGES[field_type]
    return (value - low) % (high - low + 1) + low


def _through_float64(value: int, field_type: int) -> int:
    """int64-double: the integer as a float64 would hold it, saturated to the type's range (as
    protobufjs's Long.fromNumber does; 2^64−1 becomes 2^64 as a double, then the maximum again)."""
    low, high = _INT64_RANGES[field_type]
    return max(low, min(high, int(float(value))))


def _flushed(value: float, field_type: int) -> float:
    """floats-flushed: NaN, ±Infinity, −0 and subnormals become 0; other doubles float32 precision."""
    smallest_normal = _FLOAT32_MIN_NORMAL if field_type == _T.TYPE_FLOAT else sys.float_info.min
    if math.isnan(value) or math.isinf(value) or (value == 0 and math.copysign(1, value) < 0):
        return 0.0
    if value != 0 and abs(value) < smallest_normal:
        return 0.0
    if field_type == _T.TYPE_DOUBLE:
        return float(ctypes.c_float(value).value)
    return value


class _Walker:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    def scalar(self, field: FieldDescriptor, value: Any, *, map_key: bool = False) -> Any:
        faults, kind = self.faults, field.type
        if Fault.SCRIPTED_INT64_DOUBLE in faults and kind in _INT64_RANGES:
            value = _through_float64(value, kind)
        if Fault.SCRIPTED_ENUM_SHIFTED in faults and kind == _T.TYPE_ENUM:
            value = _wrap(value + 1, kind)
        if Fault.SCRIPTED_FLOATS_FLUSHED in faults and kind in (_T.TYPE_DOUBLE, _T.TYPE_FLOAT):
            value = _flushed(value, kind)
        if Fault.SCRIPTED_BYTES_TRUNCATED in faults and kind == _T.TYPE_BYTES and value:
            value = value[:-1]
        if Fault.SCRIPTED_STRINGS_TRUNCATED in faults and kind == _T.TYPE_STRING and value and not map_key:
            value = value[:-1]  # a Python str is indexed by code point
        if Fault.SCRIPTED_MAP_KEYS_OFF in faults and map_key:
            if kind == _T.TYPE_BOOL:
                value = not value
            elif kind == _T.TYPE_STRING:
                value = value + "~"
            else:
                value = _wrap(value + 1, kind)
        return value

    def message(self, message: Message) -> None:
        """Applies the faults to message in place, recursively."""
        for field in message.DESCRIPTOR.fields:
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                self._map(message, field)
            elif is_repeated(field):
                self._repeated(message, field)
            else:
                self._singular(message, field)

    def _map(self, message: Message, field: FieldDescriptor) -> None:
        key_field = field.message_type.fields_by_name["key"]
        value_field = field.message_type.fields_by_name["value"]
        container = getattr(message, field.name)
        items = list(container.items())
        if not items:
            return
        changed: list[tuple[Any, Any]] = []
        for key, value in items:
            if value_field.message_type is not None:
                copy = type(value)()
                copy.CopyFrom(value)
                self.message(copy)
                changed.append((self.scalar(key_field, key, map_key=True), copy))
            else:
                changed.append((self.scalar(key_field, key, map_key=True), self.scalar(value_field, value)))
        container.clear()
        for key, value in changed:
            if value_field.message_type is not None:
                container[key].CopyFrom(value)
            else:
                container[key] = value

    def _repeated(self, message: Message, field: FieldDescriptor) -> None:
        container = getattr(message, field.name)
        if field.message_type is not None:
            for item in container:
                self.message(item)
        else:
            values = [self.scalar(field, value) for value in container]
            del container[:]
            container.extend(values)
        if Fault.SCRIPTED_REPEATED_TRUNCATED in self.faults and len(container) > 0:
            del container[-1]

    def _singular(self, message: Message, field: FieldDescriptor) -> None:
        has_presence = field.has_presence
        if has_presence and not message.HasField(field.name):
            return  # unset (or another member of its oneof is set): nothing to change
        if field.message_type is not None:
            self.message(getattr(message, field.name))
        else:
            setattr(message, field.name, self.scalar(field, getattr(message, field.name)))
        if (
            Fault.SCRIPTED_PRESENCE_LOST in self.faults
            and field.containing_oneof is not None  # proto3 `optional` (a synthetic oneof) or a oneof member
            and _is_zero(message, field)
        ):
            message.ClearField(field.name)


def _is_zero(message: Message, field: FieldDescriptor) -> bool:
    value = getattr(message, field.name)
    if field.message_type is not None:
        return value.ByteSize() == 0
    return bool(value == field.default_value)


def faulty_values(values: Message, faults: Faults) -> Message:
    """A copy of values with the value faults among `faults` applied (values itself when none)."""
    if not faults & VALUE_FAULTS:
        return values
    copy = type(values)()
    copy.CopyFrom(values)
    _Walker(faults).message(copy)
    return copy
