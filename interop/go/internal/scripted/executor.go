package scripted

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "interopmatrix/gen/scripted"
)

// Cases are the instructions of a --cases_file, by case name.
type Cases map[string]json.RawMessage

// LoadCases reads a --cases_file: {"cases": {NAME: INSTRUCTION, …}}. An instruction is only
// checked when its case runs (a malformed one fails that case alone).
func LoadCases(path string) (Cases, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var file struct {
		Cases Cases `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if file.Cases == nil {
		return nil, fmt.Errorf(`%s: no "cases" object`, path)
	}
	return file.Cases, nil
}

// Instruction is one case of a --cases_file (docs/peer-contract.md, "Client: the generic executor").
type Instruction struct {
	Method               string            `json:"method"`
	Metadata             []Metadatum       `json:"metadata"`
	TimeoutMs            *int64            `json:"timeout_ms"`
	Requests             []json.RawMessage `json:"requests"`
	CancelAfterResponses *int              `json:"cancel_after_responses"`
	// Compression is the call's request compression (grpc.UseCompressor), nil for none.
	Compression *string `json:"compression"`
	// Channel, when set, gives the instruction a channel of its own (see Channel).
	Channel *Channel `json:"channel"`
	// Concurrent is how many times the call is made at once on the channel (nil: once).
	Concurrent *int `json:"concurrent"`
	// Followups are the calls made on the same channel after the call (every concurrent one)
	// has ended, in order.
	Followups []Followup `json:"followups"`
}

// Followup is one call of INSTRUCTION's followups: made AfterMs after the call before it ended
// (nil: at once), on the instruction's channel, its members meaning what the instruction's do.
type Followup struct {
	AfterMs   *int64            `json:"after_ms"`
	Method    string            `json:"method"`
	Metadata  []Metadatum       `json:"metadata"`
	TimeoutMs *int64            `json:"timeout_ms"`
	Requests  []json.RawMessage `json:"requests"`
}

// Metadatum is one request metadata entry: Value is a JSON string, or {"$bytes":"hex"}.
type Metadatum struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// Observed is what grpc-go gave the executor (the result line's "observed"); every member is
// left out when the library gave nothing.
type Observed struct {
	LocalError string           `json:"local_error,omitempty"`
	Headers    *[]any           `json:"headers,omitempty"`
	Responses  []map[string]any `json:"responses,omitempty"`
	Status     *Status          `json:"status,omitempty"`
	Trailers   *[]any           `json:"trailers,omitempty"`
	Details    map[string]any   `json:"details,omitempty"`
	// The trailer x-scripted-request-info-bin decoded: a map, {} for an empty RequestInfo. A
	// RequestInfo the server put in its last response is reported in Responses, like any field.
	RequestInfo any `json:"request_info,omitempty"`
	// Concurrent: with concurrent N > 1, what the 2nd … Nth call gave, in the order they were
	// started.
	Concurrent []*Observed `json:"concurrent,omitempty"`
	// Followups: with followups, what each follow-up gave, in order (an empty list for an empty
	// followups; nil without).
	Followups *[]*Observed `json:"followups,omitempty"`
}

// list is a list the library gave (an empty one included: the JSON then has []), or nil when
// it gave nothing (the member is left out).
func list(items []any) *[]any {
	if items == nil {
		return nil
	}
	return &items
}

// Status is the call's end as the library reported it.
type Status struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// methods are the four methods of interop.scripted.Scripted with their stream descriptions.
var methods = map[string]*grpc.StreamDesc{
	"Unary":        {StreamName: "Unary"},
	"ServerStream": &pb.Scripted_ServiceDesc.Streams[0],
	"ClientStream": &pb.Scripted_ServiceDesc.Streams[1],
	"BidiStream":   &pb.Scripted_ServiceDesc.Streams[2],
}

// EncodeError is protobuf-go refusing a request value of the instruction.
type EncodeError struct{ err error }

func (e *EncodeError) Error() string { return e.err.Error() }
func (e *EncodeError) Unwrap() error { return e.err }

// Options are the executor's self-test faults (docs/peer-contract.md, "Client: the generic
// executor"); the zero value is a correct executor.
type Options struct {
	// Lenient is --client_fault=scripted-lenient: before the call, every request's "values" is
	// dropped (before protojson sees it) and every text metadata value keeps only its printable
	// ASCII characters, under its key lower-cased; -bin metadata is unchanged; an entry whose
	// lower-cased key has a character outside 0-9 a-z - _ . (":path") is left out.
	Lenient bool
	// LimitsIgnored is --client_fault=scripted-client-limits-ignored: every channel of the
	// executor (the shared one too: SharedDialOptions) has the largest message size limits
	// grpc-go takes, math.MaxInt32 both ways, and an instruction's channel limits are ignored.
	LimitsIgnored bool
	// DeadlineIgnored is --client_fault=scripted-deadline-ignored: timeout_ms is ignored, every
	// call gets the default deadline (--rpc_timeout_ms).
	DeadlineIgnored bool
	// ServerNameIgnored is --client_fault=scripted-server-name-ignored: channel.server_name is
	// ignored, every channel checks the server's certificate against --server_host_override.
	ServerNameIgnored bool
	// TargetIgnored is --client_fault=scripted-target-ignored: channel.target and
	// channel.addresses are ignored, every channel dials --server_host:--server_port.
	TargetIgnored bool
	// AuthorityIgnored is --client_fault=scripted-authority-ignored: channel.authority is ignored.
	AuthorityIgnored bool
	// ServerName gives the dial option that makes an instruction's own channel check the
	// server's certificate against name instead of --server_host_override: the transport's TLS
	// credentials with name as their server name (the authority follows, as for the flag). It
	// returns nil on an insecure transport, where channel.server_name is ignored. Without it an
	// instruction with channel.server_name cannot run (unless ServerNameIgnored).
	ServerName func(name string) (grpc.DialOption, error)
	// Server is where the channels go: an instruction's own channel dials Server's host and port,
	// or its channel.target or channel.addresses, which name them.
	Server Server
	// Dial makes a new channel to target (grpc.NewClient's target), as the shared one is made
	// (transport, server name) plus extra: it gives an instruction with "channel" its own.
	// Without it such an instruction cannot run.
	Dial func(target string, extra ...grpc.DialOption) (*grpc.ClientConn, error)
}

// Server is the server of the client's flags: --server_host, --server_port and
// --server_unix_socket ("" when not given), which channel.target names {host}, {port} and
// {unix_socket}.
type Server struct {
	Host       string
	Port       int
	UnixSocket string
}

// ParseInstruction reads one instruction and the requests of its call: an unknown method, a
// malformed request or a wrong number of requests is an error (the case fails: it cannot run),
// and so is one in a follow-up. A request protobuf-go refuses is an *EncodeError. The text
// {run} is left as it is.
func ParseInstruction(raw json.RawMessage) (Instruction, []*pb.ScriptedRequest, error) {
	in, p, err := parseInstruction(raw, Options{}, "")
	if err != nil {
		return in, nil, err
	}
	if p.call.refused != nil {
		return in, nil, p.call.refused
	}
	return in, p.call.requests, nil
}

// plan is what an instruction makes: its call, and its follow-ups in order.
type plan struct {
	call      *plannedCall
	followups []*plannedCall
}

// plannedCall is one call of an instruction (its own, or a follow-up), ready to make.
type plannedCall struct {
	method    string
	metadata  []Metadatum
	timeoutMs *int64
	requests  []*pb.ScriptedRequest
	// refused is protobuf-go refusing a request of the call (an *EncodeError): the call is not
	// made, and what it gave is that local_error.
	refused error
	// The instruction's own call only: compression and cancel_after_responses.
	compression *string
	cancelAfter *int
}

// parseInstruction reads an instruction (under scripted-lenient, "cleaned" first: its own call,
// not its follow-ups) and converts the requests of every call it makes, the text {run} in them
// replaced by token first ("" leaves it).
func parseInstruction(raw json.RawMessage, opts Options, token string) (Instruction, *plan, error) {
	var in Instruction
	if err := checkMemberTypes(raw); err != nil {
		return in, nil, err
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, nil, fmt.Errorf("malformed instruction: %v", err)
	}
	if opts.Lenient {
		lenient(&in)
	}
	// The instruction's own members first: a broken one fails the case even when a request
	// value would also be refused.
	if err := checkCall(in.Method, in.Metadata, in.TimeoutMs, in.Requests); err != nil {
		return in, nil, err
	}
	if in.CancelAfterResponses != nil && *in.CancelAfterResponses < 0 {
		return in, nil, fmt.Errorf("cancel_after_responses must not be negative, got %d", *in.CancelAfterResponses)
	}
	if in.Concurrent != nil && *in.Concurrent < 1 {
		return in, nil, fmt.Errorf("concurrent must be an integer from 1 on, got %d", *in.Concurrent)
	}
	for i, f := range in.Followups {
		if err := checkCall(f.Method, f.Metadata, f.TimeoutMs, f.Requests); err != nil {
			return in, nil, fmt.Errorf("followups[%d]: %v", i, err)
		}
		if f.AfterMs != nil && (*f.AfterMs < 0 || *f.AfterMs > MaxTimeoutMs) {
			return in, nil, fmt.Errorf("followups[%d]: after_ms must be an integer from 0 to %d, got %d", i, int64(MaxTimeoutMs), *f.AfterMs)
		}
	}
	p := &plan{call: &plannedCall{method: in.Method, metadata: in.Metadata, timeoutMs: in.TimeoutMs, compression: in.Compression, cancelAfter: in.CancelAfterResponses}}
	var err error
	if p.call.requests, p.call.refused, err = convertRequests(in.Requests, token); err != nil {
		return in, nil, err
	}
	for i, f := range in.Followups {
		c := &plannedCall{method: f.Method, metadata: f.Metadata, timeoutMs: f.TimeoutMs}
		if c.requests, c.refused, err = convertRequests(f.Requests, token); err != nil {
			return in, nil, fmt.Errorf("followups[%d]: %v", i, err)
		}
		p.followups = append(p.followups, c)
	}
	return in, p, nil
}

// checkCall checks the members of one call: its method, the number of its requests, its
// metadata and its timeout_ms.
func checkCall(method string, md []Metadatum, timeoutMs *int64, requests []json.RawMessage) error {
	desc, ok := methods[method]
	if !ok {
		return fmt.Errorf("unknown method %q (known: Unary, ServerStream, ClientStream, BidiStream)", method)
	}
	if !desc.ClientStreams && len(requests) != 1 {
		return fmt.Errorf("%s takes exactly one request, the instruction has %d", method, len(requests))
	}
	for i, m := range md {
		if _, err := m.value(); err != nil {
			return fmt.Errorf("metadata %d (%q): %v", i, m.Key, err)
		}
	}
	if timeoutMs != nil && (*timeoutMs < 0 || *timeoutMs > MaxTimeoutMs) {
		return fmt.Errorf("timeout_ms must be an integer from 0 to %d, got %d", int64(MaxTimeoutMs), *timeoutMs)
	}
	return nil
}

// runPlaceholder is the text of a request that stands for the run's token.
const runPlaceholder = "{run}"

// runToken is the token of one run of an instruction: 16 random hex digits.
func runToken() string {
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand.Read: it crashes the program instead)
	return hex.EncodeToString(b)
}

// withRun replaces {run} by token in the text of a request. The text can hold {run} only inside
// its JSON strings (anywhere else it is not JSON, which protojson then refuses as it would have),
// so a plain replacement reaches every string and leaves every other byte as the case wrote it.
func withRun(text json.RawMessage, token string) json.RawMessage {
	if token == "" {
		return text
	}
	return bytes.ReplaceAll(text, []byte(runPlaceholder), []byte(token))
}

// convertRequests converts the requests of one call with grpc-go's own means, {run} replaced by
// token first. A request protobuf-go refuses ends the conversion: refused (an *EncodeError).
// err is for a request the executor cannot read ("$fill_bytes", "$unknown").
func convertRequests(texts []json.RawMessage, token string) (requests []*pb.ScriptedRequest, refused, err error) {
	texts = slices.Clone(texts)
	fills := make([]*int64, len(texts))
	for i, text := range texts {
		if texts[i], fills[i], err = stripFillBytes(withRun(text, token)); err != nil {
			return nil, nil, fmt.Errorf("request %d: %v", i, err)
		}
	}
	requests = make([]*pb.ScriptedRequest, len(texts))
	for i, text := range texts {
		requests[i] = &pb.ScriptedRequest{}
		// "$unknown" members (unknown fields) are taken out first: protojson would refuse them.
		// One that is not hex is a broken case, not the library refusing a value.
		text, unknowns, err := stripUnknown(text, requests[i].ProtoReflect().Descriptor())
		if err != nil {
			return nil, nil, fmt.Errorf("request %d: %v", i, err)
		}
		// grpc-go's own means: protojson (proto field names and JSON names, the proto3 JSON
		// mapping; Any "@type"s resolve through the global registry, errdetails included).
		// A value protobuf-go refuses (a string for an int64, 2^31 for an int32, a lone
		// surrogate) is the library refusing to encode it: a local error, not a broken case.
		if err := protojson.Unmarshal(text, requests[i]); err != nil {
			return nil, &EncodeError{fmt.Errorf("request %d: %v", i, err)}, nil
		}
		// The unknown fields, appended to the messages protojson made, as protobuf-go keeps
		// them (protoreflect.Message.SetUnknown); proto.Marshal writes them after the fields.
		if err := unknowns.apply(requests[i].ProtoReflect()); err != nil {
			return nil, nil, fmt.Errorf("request %d: %s: %v", i, unknownMember, err)
		}
		// "$fill_bytes": N zero bytes in values.by, after the conversion (values made if absent).
		if n := fills[i]; n != nil {
			if requests[i].Values == nil {
				requests[i].Values = &pb.Values{}
			}
			requests[i].Values.By = make([]byte, *n)
		}
	}
	return requests, nil, nil
}

// fillMember is the member of a request object that asks for values.by to be N zero bytes.
const fillMember = "$fill_bytes"

// maxFillBytes bounds "$fill_bytes": a gRPC message is at most 4 GiB (its length prefix is a
// uint32), so a larger value could never be sent.
const maxFillBytes = math.MaxUint32

// stripFillBytes takes "$fill_bytes" out of a request object: the request without it, and N
// (nil when absent). N must be an integer from 0 on.
func stripFillBytes(raw json.RawMessage) (json.RawMessage, *int64, error) {
	members, ok := objectMembers(raw)
	if !ok {
		return raw, nil, nil // not an object: protojson judges it
	}
	var fill *int64
	kept := members[:0:0]
	for _, m := range members {
		if m.key != fillMember {
			kept = append(kept, m)
			continue
		}
		var n int64
		if jsonType(m.rawValue) != "number" || json.Unmarshal(m.rawValue, &n) != nil || n < 0 || n > maxFillBytes {
			return nil, nil, fmt.Errorf("%s must be an integer from 0 to %d, got %s", fillMember, int64(maxFillBytes), m.rawValue)
		}
		fill = &n
	}
	if fill == nil {
		return raw, nil, nil
	}
	return writeObject(kept), fill, nil
}

// checkMemberTypes checks the JSON types of the instruction members whose Go decoding would
// take a null as absent: compression is a string, channel an object, timeout_ms and concurrent
// numbers, followups a list, and in each follow-up timeout_ms and after_ms numbers.
func checkMemberTypes(raw json.RawMessage) error {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return nil // json.Unmarshal into Instruction says what is wrong
	}
	if v, ok := members["compression"]; ok && jsonType(v) != "string" {
		return fmt.Errorf("compression must be a string, got %s", v)
	}
	if v, ok := members["channel"]; ok && jsonType(v) != "object" {
		return fmt.Errorf("channel must be an object, got %s", v)
	}
	for _, name := range []string{"timeout_ms", "concurrent"} {
		if v, ok := members[name]; ok && jsonType(v) != "number" {
			return fmt.Errorf("%s must be an integer, got %s", name, v)
		}
	}
	v, ok := members["followups"]
	if !ok {
		return nil
	}
	var followups []json.RawMessage
	if jsonType(v) != "array" || json.Unmarshal(v, &followups) != nil {
		return fmt.Errorf("followups must be a list, got %s", v)
	}
	for i, f := range followups {
		var members map[string]json.RawMessage
		if jsonType(f) != "object" || json.Unmarshal(f, &members) != nil {
			return fmt.Errorf("followups[%d] must be an object, got %s", i, f)
		}
		for _, name := range []string{"timeout_ms", "after_ms"} {
			if v, ok := members[name]; ok && jsonType(v) != "number" {
				return fmt.Errorf("followups[%d]: %s must be an integer, got %s", i, name, v)
			}
		}
	}
	return nil
}

// lenient is the scripted-lenient fault: it "cleans" what grpc-go would refuse. A request that
// is a JSON object loses its "values" member (anything else is left for protojson to judge); a
// text metadatum (its key not ending in -bin) gets its key lower-cased and its value reduced to
// its printable ASCII characters (a value that is neither a string nor {"$bytes"} is left to
// fail as without the fault); compression and channel.compression are left out.
// legalKey is a metadata key gRPC allows (lower-cased): scripted-lenient leaves out the others.
var legalKey = regexp.MustCompile(`^[0-9a-z_.-]+$`)

func lenient(in *Instruction) {
	// No compression is asked for, per call or per channel (grpc-go refuses deflate).
	in.Compression = nil
	if in.Channel != nil {
		in.Channel.Compression = nil
	}
	for i, text := range in.Requests {
		var members map[string]json.RawMessage
		if json.Unmarshal(text, &members) != nil || members == nil {
			continue
		}
		if _, ok := members["values"]; !ok {
			continue
		}
		delete(members, "values")
		if cleaned, err := json.Marshal(members); err == nil {
			in.Requests[i] = cleaned
		}
	}
	kept := in.Metadata[:0]
	for _, m := range in.Metadata {
		if legalKey.MatchString(strings.ToLower(m.Key)) {
			kept = append(kept, m)
		}
	}
	in.Metadata = kept
	for i, m := range in.Metadata {
		key := strings.ToLower(m.Key)
		if strings.HasSuffix(key, "-bin") {
			continue
		}
		v, err := m.value()
		if err != nil {
			continue
		}
		printable := strings.Map(func(r rune) rune {
			if r >= 0x20 && r <= 0x7e {
				return r
			}
			return -1
		}, v)
		cleaned, err := json.Marshal(printable)
		if err != nil {
			continue
		}
		in.Metadata[i] = Metadatum{Key: key, Value: cleaned}
	}
}

// value is the metadata value as grpc-go takes it: a string (a "-bin" key's bytes as a string,
// which grpc-go base64-encodes on the wire).
func (m Metadatum) value() (string, error) {
	var text string
	if err := json.Unmarshal(m.Value, &text); err == nil {
		return text, nil
	}
	var b struct {
		Hex *string `json:"$bytes"`
	}
	dec := json.NewDecoder(bytes.NewReader(m.Value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || b.Hex == nil {
		return "", errors.New(`the value must be a string or {"$bytes":"hex"}`)
	}
	raw, err := hex.DecodeString(*b.Hex)
	if err != nil {
		return "", fmt.Errorf("$bytes: %v", err)
	}
	return string(raw), nil
}

// Execute makes the calls an instruction describes on conn (or, for an instruction with
// "channel", on a channel of its own: see Options.Dial), checks nothing, and returns what
// grpc-go gave. defaultTimeout is the deadline without timeout_ms (--rpc_timeout_ms). The error
// is for an instruction it cannot run.
//
// Every method goes through conn.NewStream with the method's StreamDesc: for Unary that is what
// the generated client's Invoke does itself (call.go, invoke: newClientStream, SendMsg, RecvMsg),
// and it lets the executor cancel a unary call and read its headers and trailers the same way.
func Execute(conn grpc.ClientConnInterface, raw json.RawMessage, defaultTimeout time.Duration) (*Observed, error) {
	return ExecuteWith(conn, raw, defaultTimeout, Options{})
}

// ExecuteWith is Execute with the executor's self-test faults opts.
//
// The call is made concurrent times at once, each in a goroutine of its own (all of them
// started before any is awaited: a grpc-go stream blocks in NewStream while the connection has
// no stream quota left, internal/transport/http2_client.go, NewStream, so the calls cannot be
// started one after the other from one goroutine); then, once all of them ended, the follow-ups
// one after the other on the same channel. {run} in the requests of all of them is one token per
// run of the instruction.
func ExecuteWith(conn grpc.ClientConnInterface, raw json.RawMessage, defaultTimeout time.Duration, opts Options) (*Observed, error) {
	in, p, err := parseInstruction(raw, opts, runToken())
	if err != nil {
		return nil, err
	}
	// A channel of its own only for an instruction that makes a call: one whose every request
	// protobuf-go refused makes none (and is reported so even when its channel could not be made).
	makesCalls := p.call.refused == nil || len(p.followups) > 0
	if in.Channel != nil && makesCalls {
		// A channel of the instruction's own, closed when it is over.
		if opts.Dial == nil {
			return nil, errNoDialer
		}
		target, resolve, err := in.Channel.target(opts)
		if err != nil {
			return nil, err
		}
		dialOptions, err := in.Channel.dialOptions(opts)
		if err != nil {
			return nil, err
		}
		dialOptions = append(dialOptions, resolve...)
		// grpc.NewClient connects lazily: a TLS handshake that fails (a server name the
		// certificate does not match), a target its resolver cannot parse (grpc-go has no ipv4:
		// or ipv6: scheme: dns:///ipv6:[::1]:P), fail the call below, as the application sees
		// it (UNAVAILABLE from NewStream; grpc-go 1.64 and 1.72 give the bad target as an error
		// without a status, "failed to exit idle mode: …", so a local error), never here. What
		// NewClient itself refuses (channel.authority beside TLS credentials with another server
		// name) is grpc-go refusing before any call: a local error.
		own, err := opts.Dial(target, dialOptions...)
		if err != nil {
			return &Observed{LocalError: err.Error()}, nil
		}
		defer own.Close()
		conn = own
	}

	n := 1
	if in.Concurrent != nil {
		n = *in.Concurrent
	}
	observed := make([]*Observed, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// A panic here would end the process: it fails the instruction instead, as one in
			// the caller's goroutine does (client.runScripted).
			defer func() {
				if v := recover(); v != nil {
					errs[i] = fmt.Errorf("panic: %v", v)
				}
			}()
			observed[i], errs[i] = p.call.observe(conn, defaultTimeout, opts)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	obs := observed[0]
	if n > 1 {
		obs.Concurrent = observed[1:]
	}
	if in.Followups != nil {
		followups := make([]*Observed, 0, len(p.followups))
		for i, f := range p.followups {
			if after := in.Followups[i].AfterMs; after != nil {
				time.Sleep(time.Duration(*after) * time.Millisecond)
			}
			o, err := f.observe(conn, defaultTimeout, opts)
			if err != nil {
				return nil, err
			}
			followups = append(followups, o)
		}
		obs.Followups = &followups
	}
	return obs, nil
}

// observe makes the call on conn and returns what grpc-go gave: the local error of a request
// protobuf-go refused (no call), the status of a call grpc-go refused to start, else the
// responses, headers, status, trailers and RequestInfo.
func (c *plannedCall) observe(conn grpc.ClientConnInterface, defaultTimeout time.Duration, opts Options) (*Observed, error) {
	if c.refused != nil {
		return &Observed{LocalError: c.refused.Error()}, nil
	}
	desc := methods[c.method]
	var callOptions []grpc.CallOption
	if c.compression != nil {
		// Passed on whatever the name: grpc-go refuses one it has not registered when the
		// call starts (stream.go, newClientStream: "grpc: Compressor is not installed for
		// requested grpc-encoding", INTERNAL), which is reported as the call's status below.
		callOptions = append(callOptions, grpc.UseCompressor(*c.compression))
	}
	timeout := defaultTimeout
	if c.timeoutMs != nil && !opts.DeadlineIgnored {
		// Up to 366 days, given to grpc-go as it is; 0 is a deadline that passed a second
		// before the call is made.
		timeout = time.Duration(*c.timeoutMs) * time.Millisecond
		if *c.timeoutMs == 0 {
			timeout = -time.Second
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(timeout))
	defer cancel()
	for _, m := range c.metadata {
		v, _ := m.value()
		ctx = metadata.AppendToOutgoingContext(ctx, m.Key, v) // one by one: added, never joined
	}

	obs := &Observed{}
	stream, err := conn.NewStream(ctx, desc, "/"+pb.Scripted_ServiceDesc.ServiceName+"/"+c.method, callOptions...)
	if err != nil {
		// grpc-go refuses what it will not send (a metadata value that is not printable
		// ASCII, an invalid key) here, before any stream exists, with a status error
		// (stream.go, newClientStream: status.Error(codes.Internal, …) from
		// imetadata.Validate). That is the status the application gets for its call, so it is
		// reported as the status; only an error that is not a status is a local_error.
		if st, ok := status.FromError(err); ok {
			obs.Status = &Status{Code: int(st.Code()), Message: st.Message()}
			obs.Details = details(st)
		} else {
			obs.LocalError = err.Error()
		}
		return obs, nil
	}

	// Send every request in order, then half-close; a send that fails (the server ended the
	// call) stops the sending (the status comes from RecvMsg).
	for _, req := range c.requests {
		if err := stream.SendMsg(req); err != nil {
			break
		}
	}
	if err := stream.CloseSend(); err != nil {
		return nil, fmt.Errorf("CloseSend: %v", err) // grpc-go documents it never fails
	}
	// Once the call is cancelled, the responses are those received up to then: a message
	// grpc-go still hands over from its buffer afterwards (its receive select picks between the
	// buffered message and the cancelled context at random) is read, to get to the status, and
	// not counted — as the Python and TypeScript executors stop at the cancel.
	cancelled := false
	if c.cancelAfter != nil && *c.cancelAfter == 0 {
		cancel()
		cancelled = true
	}
	var end error
	for {
		resp := &pb.ScriptedResponse{}
		if end = stream.RecvMsg(resp); end != nil {
			break
		}
		if cancelled {
			continue
		}
		obs.Responses = append(obs.Responses, EncodeMessage(resp.ProtoReflect()))
		if c.cancelAfter != nil && len(obs.Responses) == *c.cancelAfter {
			cancel()
			cancelled = true
		}
		if !desc.ServerStreams {
			break // a unary or client-streaming RecvMsg returns nil only once the call ended OK
		}
	}
	if end == io.EOF {
		end = nil
	}
	st := status.Convert(end) // nil: OK
	obs.Status = &Status{Code: int(st.Code()), Message: st.Message()}
	obs.Details = details(st)

	// The headers: nil when the call was trailers-only (or ended before any header), an MD
	// (possibly empty) when headers came (internal/transport/client_stream.go, Header).
	if headers, err := stream.Header(); err == nil {
		obs.Headers = list(EncodeMetadata(headers))
	}
	trailer := stream.Trailer()
	obs.Trailers = list(EncodeMetadata(trailer, statusDetailsKey, requestInfoKey))
	if values, ok := trailer[requestInfoKey]; ok && len(values) > 0 {
		info := &pb.RequestInfo{}
		if err := proto.Unmarshal([]byte(values[0]), info); err != nil {
			obs.RequestInfo = map[string]any{"error": err.Error()}
		} else {
			obs.RequestInfo = EncodeMessage(info.ProtoReflect())
		}
	}
	return obs, nil
}

// details are the rich error details of st through grpc-go's API: st.Proto() (the
// google.rpc.Status grpc-go built from grpc-status-details-bin) with every entry of Details()
// (each unpacked from its Any, or the error that unpacking gave) in place of the Anys; nil
// without details.
func details(st *status.Status) map[string]any {
	p := st.Proto()
	if len(p.GetDetails()) == 0 {
		return nil
	}
	entries := make([]any, 0, len(p.GetDetails()))
	for i, d := range st.Details() {
		switch d := d.(type) {
		case proto.Message:
			entries = append(entries, withType(p.GetDetails()[i].GetTypeUrl(), EncodeMessage(d.ProtoReflect())))
		default:
			entries = append(entries, map[string]any{"@type": p.GetDetails()[i].GetTypeUrl(), "$value": bytesOf(p.GetDetails()[i].GetValue())})
		}
	}
	encoded := EncodeMessage(p.ProtoReflect())
	encoded["details"] = entries
	return map[string]any{"status": encoded}
}
