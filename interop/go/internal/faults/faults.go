// Package faults names the deliberate server bugs of the self-test (docs/peer-contract.md,
// "Faults"). Each one breaks exactly one behaviour, so that the self-test can prove that the
// cases checking that behaviour turn red.
package faults

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Name is one fault of the contract.
type Name string

// The faults of the contract, and nothing else.
const (
	GreetingPunctuation       Name = "greeting-punctuation"
	AgainWrong                Name = "again-wrong"
	ServiceWrong              Name = "service-wrong"
	LengthUTF16               Name = "length-utf16"
	LengthBytes               Name = "length-bytes"
	RecommendShareSet         Name = "recommend-share-set"
	RecommendNoValidation     Name = "recommend-no-validation"
	RandomConstant            Name = "random-constant"
	PandaFloat64              Name = "panda-float64"
	StreamTruncate            Name = "stream-truncate"
	GreetingsReversed         Name = "greetings-reversed"
	BidiBuffered              Name = "bidi-buffered"
	UnaryEvery10thUnavailable Name = "unary-every-10th-unavailable"
	SingleWorker              Name = "single-worker"
	CountLimitLow             Name = "count-limit-low"
	CountLimitNone            Name = "count-limit-none"
	ArticleLimitLow           Name = "article-limit-low"
	HealthServingAny          Name = "health-serving-any"
	VersionWrong              Name = "version-wrong"
	// The faults of the discovery suite (docs/peer-contract.md, "The discovery suite"):
	// services.NewServer's reflection and the health service implement them.
	ReflectionIncomplete     Name = "reflection-incomplete"
	HealthWatchSilent        Name = "health-watch-silent"
	HealthServicesNotServing Name = "health-services-not-serving"
	// HealthWatchNoUpdates: Health/Watch sends the status current when the stream starts, then
	// nothing more; script.set_health still changes what Check answers.
	HealthWatchNoUpdates Name = "health-watch-no-updates"

	// The faults of the grpc.testing self-test.
	TestingEmptyPayload         Name = "testing-empty-payload"
	TestingAggregateOff         Name = "testing-aggregate-off"
	TestingStreamDropLast       Name = "testing-stream-drop-last"
	TestingDuplexBuffered       Name = "testing-duplex-buffered"
	TestingDuplexExtra          Name = "testing-duplex-extra"
	TestingNoEchoMetadata       Name = "testing-no-echo-metadata"
	TestingStatusIgnored        Name = "testing-status-ignored"
	TestingStatusMessageTrimmed Name = "testing-status-message-trimmed"
	TestingImplementEverything  Name = "testing-implement-everything"
	TestingEmptyCallError       Name = "testing-empty-call-error"
	TestingCompressionUnchecked Name = "testing-compression-unchecked"

	// The faults of the testing-edges self-test.
	TestingStatusUnknown   Name = "testing-status-unknown"
	TestingStreamStatusOK  Name = "testing-stream-status-ok"
	TestingIntervalIgnored Name = "testing-interval-ignored"

	// The faults of the scripted service (docs/peer-contract.md, "The scripted service and the
	// data suites"); internal/scripted implements them.
	ScriptedStatusUnknown     Name = "scripted-status-unknown"
	ScriptedMessageMangled    Name = "scripted-message-mangled"
	ScriptedDetailsDropped    Name = "scripted-details-dropped"
	ScriptedTrailersAsHeaders Name = "scripted-trailers-as-headers"
	ScriptedHeadersDropped    Name = "scripted-headers-dropped"
	ScriptedMetadataJoined    Name = "scripted-metadata-joined"
	ScriptedInt64Double       Name = "scripted-int64-double"
	ScriptedEnumShifted       Name = "scripted-enum-shifted"
	ScriptedMapKeysOff        Name = "scripted-map-keys-off"
	ScriptedFloatsFlushed     Name = "scripted-floats-flushed"
	ScriptedBytesTruncated    Name = "scripted-bytes-truncated"
	ScriptedStringsTruncated  Name = "scripted-strings-truncated"
	ScriptedPresenceLost      Name = "scripted-presence-lost"
	ScriptedRepeatedTruncated Name = "scripted-repeated-truncated"
	ScriptedRepliesDropLast   Name = "scripted-replies-drop-last"
	ScriptedRequestInfoEmpty  Name = "scripted-request-info-empty"
	ScriptedPeerIPv4          Name = "scripted-peer-ipv4"
	ScriptedAuthorityDropped  Name = "scripted-authority-dropped"
	ScriptedReadAll           Name = "scripted-read-all"
	ScriptedDelayIgnored      Name = "scripted-delay-ignored"
	ScriptedUnknownDropped    Name = "scripted-unknown-dropped"
	// ScriptedLimitsIgnored: the server ignores --max_receive_message_length and
	// --max_send_message_length and takes and sends messages of any size (services.NewServer).
	ScriptedLimitsIgnored Name = "scripted-limits-ignored"
	// ScriptedLifecycleIgnored: the server ignores the connection lifecycle flags
	// (--max_concurrent_streams, --max_connection_age_ms, keepalive, …) and starts with grpc-go's
	// defaults (services.NewServer).
	ScriptedLifecycleIgnored Name = "scripted-lifecycle-ignored"
	// ScriptedCancelIgnored: the scripted handler never looks at cancellation (internal/scripted).
	ScriptedCancelIgnored Name = "scripted-cancel-ignored"
	// ScriptedSecondHostIgnored: the server ignores --second_host and listens on --host (and
	// [::1], the Unix socket when asked) only (internal/server).
	ScriptedSecondHostIgnored Name = "scripted-second-host-ignored"
	// ScriptedShutdownAbrupt: the restart of script.restart_server_after_ms shuts the server down
	// with grpc-go's Stop instead of GracefulStop, cancelling the calls in flight (internal/scripted).
	ScriptedShutdownAbrupt Name = "scripted-shutdown-abrupt"
)

// All lists every fault in the contract's order.
var All = []Name{
	GreetingPunctuation, AgainWrong, ServiceWrong, LengthUTF16, LengthBytes,
	RecommendShareSet, RecommendNoValidation, RandomConstant, PandaFloat64,
	StreamTruncate, GreetingsReversed, BidiBuffered, UnaryEvery10thUnavailable, SingleWorker,
	CountLimitLow, CountLimitNone, ArticleLimitLow, HealthServingAny, VersionWrong,
	ReflectionIncomplete, HealthWatchSilent, HealthServicesNotServing, HealthWatchNoUpdates,
	TestingEmptyPayload, TestingAggregateOff, TestingStreamDropLast, TestingDuplexBuffered,
	TestingDuplexExtra, TestingNoEchoMetadata, TestingStatusIgnored, TestingStatusMessageTrimmed,
	TestingImplementEverything, TestingEmptyCallError, TestingCompressionUnchecked,
	TestingStatusUnknown, TestingStreamStatusOK, TestingIntervalIgnored,
	ScriptedStatusUnknown, ScriptedMessageMangled, ScriptedDetailsDropped, ScriptedTrailersAsHeaders,
	ScriptedHeadersDropped, ScriptedMetadataJoined, ScriptedInt64Double, ScriptedEnumShifted,
	ScriptedMapKeysOff, ScriptedFloatsFlushed, ScriptedBytesTruncated, ScriptedStringsTruncated,
	ScriptedPresenceLost, ScriptedRepeatedTruncated, ScriptedRepliesDropLast, ScriptedRequestInfoEmpty,
	ScriptedPeerIPv4, ScriptedAuthorityDropped, ScriptedReadAll, ScriptedDelayIgnored, ScriptedUnknownDropped, ScriptedLimitsIgnored,
	ScriptedLifecycleIgnored, ScriptedCancelIgnored, ScriptedSecondHostIgnored, ScriptedShutdownAbrupt,
}

// Set is the faults a server runs with; the zero value is a correct server.
type Set map[Name]bool

// Has reports whether fault n is on.
func (s Set) Has(n Name) bool { return s[n] }

// String renders the set as the --fault flag value that would produce it.
func (s Set) String() string {
	return join(slices.Sorted(maps.Keys(s)), ",")
}

// Parse reads a --fault value: comma-separated fault names, "" for none.
func Parse(list string) (Set, error) {
	set := Set{}
	if list == "" {
		return set, nil
	}
	for _, name := range strings.Split(list, ",") {
		if !slices.Contains(All, Name(name)) {
			return nil, fmt.Errorf("unknown fault %q (known: %s)", name, join(All, ", "))
		}
		set[Name(name)] = true
	}
	return set, nil
}

func join(names []Name, sep string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = string(n)
	}
	return strings.Join(parts, sep)
}
