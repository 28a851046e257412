"""The self-test faults of docs/peer-contract.md: each breaks exactly one server behaviour.

The first twenty-three break the seed and support services and server reflection ("Faults"; the
last four, reflection-incomplete, health-watch-silent, health-services-not-serving and
health-watch-no-updates, for the discovery suite), the `testing-*` ones grpc.testing.TestService:
the first eleven for the grpc.testing suite ("Faults for the grpc.testing self-test"), the last
three for the testing-edges suite ("The `testing-edges` suite"). The `scripted-*` ones break
interop.scripted.Scripted ("The scripted service and the data suites"): scripted_service.py and
scripted_values.py (scripted-limits-ignored and scripted-lifecycle-ignored: the whole server's
message size limits and connection options, serving.py; scripted-shutdown-abrupt: the stop of a
restart, serving.py; scripted-second-host-ignored: the listeners, serving.py).
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
    COUNT_LIMIT_LOW = "count-limit-low"
    COUNT_LIMIT_NONE = "count-limit-none"
    ARTICLE_LIMIT_LOW = "article-limit-low"
    HEALTH_SERVING_ANY = "health-serving-any"
    VERSION_WRONG = "version-wrong"
    # Reflection leaves interop.scripted.Scripted out (reflection_service.py).
    REFLECTION_INCOMPLETE = "reflection-incomplete"
    # Health/Watch sends nothing and holds the stream open (support.py).
    HEALTH_WATCH_SILENT = "health-watch-silent"
    # Health calls every served service named NOT_SERVING; "" stays SERVING (support.py).
    HEALTH_SERVICES_NOT_SERVING = "health-services-not-serving"
    # Health/Watch sends the status of when it started, then nothing: no script.set_health reaches it (support.py).
    HEALTH_WATCH_NO_UPDATES = "health-watch-no-updates"
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
    TESTING_STATUS_UNKNOWN = "testing-status-unknown"
    TESTING_STREAM_STATUS_OK = "testing-stream-status-ok"
    TESTING_INTERVAL_IGNORED = "testing-interval-ignored"
    SCRIPTED_STATUS_UNKNOWN = "scripted-status-unknown"
    SCRIPTED_MESSAGE_MANGLED = "scripted-message-mangled"
    SCRIPTED_DETAILS_DROPPED = "scripted-details-dropped"
    SCRIPTED_TRAILERS_AS_HEADERS = "scripted-trailers-as-headers"
    SCRIPTED_HEADERS_DROPPED = "scripted-headers-dropped"
    SCRIPTED_METADATA_JOINED = "scripted-metadata-joined"
    SCRIPTED_INT64_DOUBLE = "scripted-int64-double"
    SCRIPTED_ENUM_SHIFTED = "scripted-enum-shifted"
    SCRIPTED_MAP_KEYS_OFF = "scripted-map-keys-off"
    SCRIPTED_FLOATS_FLUSHED = "scripted-floats-flushed"
    SCRIPTED_BYTES_TRUNCATED = "scripted-bytes-truncated"
    SCRIPTED_STRINGS_TRUNCATED = "scripted-strings-truncated"
    SCRIPTED_PRESENCE_LOST = "scripted-presence-lost"
    SCRIPTED_REPEATED_TRUNCATED = "scripted-repeated-truncated"
    SCRIPTED_REPLIES_DROP_LAST = "scripted-replies-drop-last"
    SCRIPTED_REQUEST_INFO_EMPTY = "scripted-request-info-empty"
    SCRIPTED_PEER_IPV4 = "scripted-peer-ipv4"
    SCRIPTED_AUTHORITY_DROPPED = "scripted-authority-dropped"
    SCRIPTED_READ_ALL = "scripted-read-all"
    SCRIPTED_DELAY_IGNORED = "scripted-delay-ignored"
    SCRIPTED_UNKNOWN_DROPPED = "scripted-unknown-dropped"
    # --max_receive_message_length / --max_send_message_length are ignored: both limits are -1 (serving.py).
    SCRIPTED_LIMITS_IGNORED = "scripted-limits-ignored"
    # The connection lifecycle flags (--max_concurrent_streams … --keepalive_permit_without_calls) are
    # ignored: grpcio's defaults (serving.py).
    SCRIPTED_LIFECYCLE_IGNORED = "scripted-lifecycle-ignored"
    # The scripted handler never looks at cancellation: its waits run to the end, every reply is handed
    # to grpcio and the call is recorded `completed` (scripted_service.py).
    SCRIPTED_CANCEL_IGNORED = "scripted-cancel-ignored"
    # The restart of script.restart_server_after_ms stops the server with server.stop(None) instead of
    # the graceful stop: the calls in flight are cancelled (scripted_service.py, serving.py).
    SCRIPTED_SHUTDOWN_ABRUPT = "scripted-shutdown-abrupt"
    # --second_host is ignored: the server listens on --host (and [::1], the Unix socket) only (serving.py).
    SCRIPTED_SECOND_HOST_IGNORED = "scripted-second-host-ignored"


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
