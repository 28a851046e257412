"""The self-test faults of docs/peer-contract.md: each breaks exactly one server behaviour.

The first fourteen break the seed services ("Faults"), the `testing-*` ones grpc.testing.TestService
("Faults for the grpc.testing self-test").
"""

from __future__ import annotations

import enum


class Fault(enum.StrEnum):
    GREETING_PUNCTUATION = "greeting-punctuation"
    AGAIN_WRONG = "again-wrong"
    SERVICE_WRONG = "service-wrong"
    LENGTH_UTF16 = "length-utf16"
    LENGTH_BYTES = "length-bytes"
    RECOMMEND_SHARE_SET = "recommend-share-set"
    RECOMMEND_NO_VALIDATION = "recommend-no-validation"
    RANDOM_CONSTANT = "random-constant"
    PANDA_FLOAT64 = "panda-float64"
    STREAM_TRUNCATE = "stream-truncate"
    GREETINGS_REVERSED = "greetings-reversed"
    BIDI_BUFFERED = "bidi-buffered"
    UNARY_EVERY_10TH_UNAVAILABLE = "unary-every-10th-unavailable"
    SINGLE_WORKER = "single-worker"
    TESTING_EMPTY_PAYLOAD = "testing-empty-payload"
    TESTING_AGGREGATE_OFF = "testing-aggregate-off"
    TESTING_STREAM_DROP_LAST = "testing-stream-drop-last"
    TESTING_DUPLEX_BUFFERED = "testing-duplex-buffered"
    TESTING_DUPLEX_EXTRA = "testing-duplex-extra"
    TESTING_NO_ECHO_METADATA = "testing-no-echo-metadata"
    TESTING_STATUS_IGNORED = "testing-status-ignored"
    TESTING_STATUS_MESSAGE_TRIMMED = "testing-status-message-trimmed"
    TESTING_IMPLEMENT_EVERYTHING = "testing-implement-everything"
    TESTING_EMPTY_CALL_ERROR = "testing-empty-call-error"
    TESTING_COMPRESSION_UNCHECKED = "testing-compression-unchecked"


Faults = frozenset[Fault]


def parse_faults(text: str) -> Faults:
    """Parses `a,b,...` (empty → no fault); ValueError names the first unknown fault."""
    faults: set[Fault] = set()
    for name in filter(None, (part.strip() for part in text.split(","))):
        try:
            faults.add(Fault(name))
        except ValueError:
            known = ", ".join(fault.value for fault in Fault)
            raise ValueError(f"unknown fault {name!r} (known: {known})") from None
    return frozenset(faults)
