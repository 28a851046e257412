// Package scripted is the Go peer's side of the scripted service and the data suites
// (docs/peer-contract.md, "The scripted service and the data suites"): the server's one generic
// handler of interop.scripted.Scripted with the scripted-* faults, and the client's generic
// executor with the encoder of what the library gave it.
package scripted

import (
	"context"
	"fmt"
	"io"
	"log"
	"maps"
	"slices"
	"strings"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	// Registers gzip, the one compressor grpc-go has besides identity: the executor's
	// compression and channel.compression, the server's response_compression.
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	// Registers google.rpc.BadRequest, ErrorInfo, RetryInfo, DebugInfo, LocalizedMessage, … in
	// the global registry, so that protojson can read the Any "@type"s of a case's details and
	// status.Details / anypb.UnmarshalNew can unpack them. Both binaries link this package.
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"

	pb "interopmatrix/gen/scripted"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/healthstatus"
)

// The trailers the scripted service defines or uses.
const (
	requestInfoKey   = "x-scripted-request-info-bin"
	statusDetailsKey = "grpc-status-details-bin"
)

// Service is interop.scripted.Scripted: every method runs the one generic handler.
type Service struct {
	pb.UnimplementedScriptedServer
	faults faults.Set
	// restart restarts the server this service is registered on (script.restart_server_after_ms);
	// nil: the server cannot restart.
	restart Restart
}

// Restart is the process's restart of the gRPC server a scripted call came on
// (docs/peer-contract.md, the scripted server's "Restart"). It sets off, without waiting for it,
// the shutdown of that server: grpc-go's GracefulStop when graceful, else Stop (the fault
// scripted-shutdown-abrupt); once the shutdown has returned, the process waits after, then serves
// again on the same addresses. It returns a channel closed when the shutdown has returned, or nil
// when it did not set off a restart (a --workers process, a restart already under way, a server
// stopping), having said why on stderr.
type Restart func(after time.Duration, graceful bool) (stopped <-chan struct{})

// Register registers the scripted service on s, with the faults f; restart is how a call's
// script.restart_server_after_ms restarts s (nil: s cannot restart, and the handler says so on
// stderr).
func Register(s *grpc.Server, f faults.Set, restart Restart) {
	pb.RegisterScriptedServer(s, &Service{faults: f, restart: restart})
}

func (s *Service) Unary(ctx context.Context, req *pb.ScriptedRequest) (*pb.ScriptedResponse, error) {
	return s.handle(&unaryCall{ctx: ctx, first: req}, false, false)
}

func (s *Service) ServerStream(req *pb.ScriptedRequest, stream grpc.ServerStreamingServer[pb.ScriptedResponse]) error {
	_, err := s.handle(&streamCall{ss: stream, one: true, first: req}, false, true)
	return err
}

func (s *Service) ClientStream(stream grpc.ClientStreamingServer[pb.ScriptedRequest, pb.ScriptedResponse]) error {
	resp, err := s.handle(&streamCall{ss: stream}, true, false)
	if err != nil || resp == nil {
		return err
	}
	return stream.SendAndClose(resp)
}

func (s *Service) BidiStream(stream grpc.BidiStreamingServer[pb.ScriptedRequest, pb.ScriptedResponse]) error {
	_, err := s.handle(&streamCall{ss: stream}, true, true)
	return err
}

// call is what the generic handler needs of a call, through the API a grpc-go handler of that
// kind has: a unary handler only has its context (grpc.SetHeader, grpc.SendHeader,
// grpc.SetTrailer), a streaming one its grpc.ServerStream.
//
// In grpc-go v1.85.0 the two differ: the stream's SetHeader and SendHeader validate the
// metadata (stream.go, serverStream.SetHeader and SendHeader: imetadata.Validate, an INTERNAL
// status error for a non-printable-ASCII text value), while the context's functions go straight
// to the transport stream (server.go, SetHeader/SendHeader -> ServerTransportStreamFromContext,
// which processRPC sets to the *transport.ServerStream; internal/transport/server_stream.go,
// ServerStream.SetHeader/SendHeader validate nothing). serverStream.SetTrailer validates but only
// logs (stream.go, "failed to validate md when setting trailer"). So a unary call sends
// non-ASCII header values that a streaming call refuses.
type call interface {
	context() context.Context
	// recv reads the next request; io.EOF after the client half-closed (or, unary and
	// server-streaming, after the one request).
	recv() (*pb.ScriptedRequest, error)
	setHeader(metadata.MD) error
	// sendHeader sends the headers set so far: the explicit "send initial metadata" call.
	sendHeader() error
	setTrailer(metadata.MD) error
	// send sends one response of a server-streaming or bidi call.
	send(*pb.ScriptedResponse) error
}

type unaryCall struct {
	ctx   context.Context
	first *pb.ScriptedRequest
}

func (c *unaryCall) context() context.Context { return c.ctx }

func (c *unaryCall) recv() (*pb.ScriptedRequest, error) {
	req := c.first
	if req == nil {
		return nil, io.EOF
	}
	c.first = nil
	return req, nil
}

func (c *unaryCall) setHeader(md metadata.MD) error  { return grpc.SetHeader(c.ctx, md) }
func (c *unaryCall) sendHeader() error               { return grpc.SendHeader(c.ctx, nil) }
func (c *unaryCall) setTrailer(md metadata.MD) error { return grpc.SetTrailer(c.ctx, md) }
func (c *unaryCall) send(*pb.ScriptedResponse) error {
	return status.Error(codes.Internal, "scripted: a unary call answers by returning its response")
}

type streamCall struct {
	ss grpc.ServerStream
	// one: a server-streaming call, whose one request grpc-go already read (first).
	one   bool
	first *pb.ScriptedRequest
}

func (c *streamCall) context() context.Context { return c.ss.Context() }

func (c *streamCall) recv() (*pb.ScriptedRequest, error) {
	if c.one {
		req := c.first
		if req == nil {
			return nil, io.EOF
		}
		c.first = nil
		return req, nil
	}
	req := &pb.ScriptedRequest{}
	if err := c.ss.RecvMsg(req); err != nil {
		return nil, err
	}
	return req, nil
}

func (c *streamCall) setHeader(md metadata.MD) error { return c.ss.SetHeader(md) }
func (c *streamCall) sendHeader() error              { return c.ss.SendHeader(nil) }
func (c *streamCall) setTrailer(md metadata.MD) error {
	c.ss.SetTrailer(md)
	return nil
}
func (c *streamCall) send(resp *pb.ScriptedResponse) error { return c.ss.SendMsg(resp) }

// handle is the generic handler, steps 1 to 8 of the contract. It returns the one response of a
// unary or client-streaming call (nil when the call ends with an error), and the call's status.
func (s *Service) handle(c call, clientStreams, serverStreams bool) (*pb.ScriptedResponse, error) {
	ctx := c.context()
	w := &watcher{ctx: ctx, ignored: s.faults.Has(faults.ScriptedCancelIgnored)}
	// The call's record (script.call_id) ends when the handler returns: cancelled when it
	// stopped because the call was cancelled, else completed.
	defer func() { w.record.end(w.cancelled) }()
	// active_calls counts this handler from now until it returns, whatever the outcome (no
	// longer once its record says it ended: deferred after it, so run before it).
	activeCalls.Add(1)
	defer activeCalls.Add(-1)
	info := &pb.RequestInfo{Headers: requestHeaders(ctx), TimeoutMs: timeLeft(ctx), Authority: s.authority(ctx), Peer: s.clientPeer(ctx)}

	// 1. The first request, and its script (an empty one after a half-close without requests).
	first, err := c.recv()
	switch {
	case err == io.EOF:
		first = nil
	case err != nil:
		return nil, w.failed(err)
	default:
		info.Requests = append(info.Requests, first)
	}
	script := first.GetScript()
	if id := script.GetCallId(); id != "" {
		w.record = startRecord(id)
	}

	// 2. The calls this process is handling now, and the record script.report_call asks for,
	// once that call has ended (the wait ends early when this call is cancelled).
	info.ActiveCalls = activeCalls.Load()
	if id := script.GetReportCall(); id != "" {
		record, err := reportCall(w.watched(), id)
		info.ReportedCall = record
		if err != nil {
			return nil, w.stop()
		}
	}
	// Then script.set_health, in order: each status set in the process's health table, which
	// tells the health service's Watch streams. A status name other than SERVING, NOT_SERVING
	// and UNKNOWN ends the call, before anything is sent (the entries before it are set).
	for _, change := range script.GetSetHealth() {
		st, ok := healthstatus.Parse(change.GetStatus())
		if !ok {
			return nil, s.refuse(c, info, codes.InvalidArgument, fmt.Sprintf("scripted: set_health: unknown status %q for service %q (SERVING, NOT_SERVING or UNKNOWN)", change.GetStatus(), change.GetService()))
		}
		healthstatus.Set(change.GetService(), st)
	}
	// Restart (script.restart_server_after_ms): set off now, and the script goes on meanwhile.
	if ms := script.GetRestartServerAfterMs(); ms > 0 {
		s.restartServer(ctx, ms)
	}
	// The status faults change the status as a whole: the details' google.rpc.Status carries
	// the same (wrong) code, unless details_code is set, and the same mangled message, as the
	// rich-error API sends one code and one message for both.
	code, message := codes.Code(script.GetCode()), script.GetMessage()
	if s.faults.Has(faults.ScriptedStatusUnknown) && code != codes.OK {
		code = codes.Unknown
	}
	if s.faults.Has(faults.ScriptedMessageMangled) {
		message = mangled(message)
	}

	// 7 (set before anything is sent). script.response_compression: grpc-go's per-call API,
	// grpc.SetSendCompressor, which names the compressor of every response of the call in the
	// response headers; it must come before they are sent. grpc-go refuses a compressor it has
	// not registered (only gzip is, by importing google.golang.org/grpc/encoding/gzip; it has no
	// deflate) or one the client did not list in grpc-accept-encoding (server.go,
	// SetSendCompressor -> validateSendCompressor): the call then ends at once, UNIMPLEMENTED.
	if name := script.GetResponseCompression(); name != "" {
		if err := grpc.SetSendCompressor(ctx, name); err != nil {
			return nil, s.refuse(c, info, codes.Unimplemented, fmt.Sprintf("scripted: cannot compress responses with %s: %v", name, err))
		}
	}

	// 3. The delay.
	if err := s.sleep(w, script.GetDelayMs()); err != nil {
		return nil, err
	}

	// 4. The headers first, explicitly (scripted-trailers-as-headers: the scripted trailers
	// go with them, here, whatever send_headers_first says).
	headers, trailers := script.GetHeaders(), script.GetTrailers()
	if s.faults.Has(faults.ScriptedHeadersDropped) {
		headers = nil
	}
	headersSent := false
	switch {
	case s.faults.Has(faults.ScriptedTrailersAsHeaders):
		if err := s.sendHeaders(c, slices.Concat(headers, trailers)); err != nil {
			return nil, w.failed(err)
		}
		headersSent, trailers = true, nil
	case script.GetSendHeadersFirst():
		if err := s.sendHeaders(c, headers); err != nil {
			return nil, w.failed(err)
		}
		headersSent = true
	}

	// 5. Client-streaming and bidi: read read_requests requests in all, or until half-close.
	if clientStreams && first != nil {
		limit := int(script.GetReadRequests())
		if s.faults.Has(faults.ScriptedReadAll) {
			limit = 0
		}
		for limit <= 0 || len(info.Requests) < limit {
			req, err := c.recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, w.failed(err)
			}
			info.Requests = append(info.Requests, req)
		}
	}

	// 6. Scripted headers not sent yet: now, explicitly (an error is then never trailers-only).
	if !headersSent && len(headers) > 0 {
		if err := s.sendHeaders(c, headers); err != nil {
			return nil, w.failed(err)
		}
	}

	// RequestInfo is complete: every request the call reads has been read (step 5).
	if s.faults.Has(faults.ScriptedRequestInfoEmpty) {
		info = &pb.RequestInfo{}
	}
	// RequestInfo carries the requests as grpc-go decoded them, unknown fields included
	// (proto.Unmarshal keeps them); scripted-unknown-dropped discards them, in a copy (the
	// script's replies, which the requests hold, are the replies' own business).
	if s.faults.Has(faults.ScriptedUnknownDropped) {
		info = proto.Clone(info).(*pb.RequestInfo)
		discardUnknown(info)
	}

	// 7. The replies. The server knows its last response in advance: when the call ends OK
	// (code is the final code, after scripted-status-unknown) and sends at least one response,
	// RequestInfo goes in that response's request_info (step 8) instead of the trailer, which
	// would meet grpc-js's ~64 KiB limit on trailers when the requests are large. The value
	// faults change values only, never request_info. Before each reply the handler checks that
	// the call is not cancelled; a reply is counted in the call's record once it is handed to
	// grpc-go (a unary or client-streaming one when the handler returns it).
	replies := script.GetReplies()
	if s.faults.Has(faults.ScriptedRepliesDropLast) && len(replies) > 0 {
		replies = replies[:len(replies)-1]
	}
	infoInResponse := false
	var response *pb.ScriptedResponse
	repliesReturned := false
	if !serverStreams {
		if code == codes.OK {
			response = &pb.ScriptedResponse{RequestInfo: info}
			infoInResponse = true
			if len(replies) > 0 {
				if err := s.sleep(w, replies[0].GetDelayMs()); err != nil {
					return nil, err
				}
				if w.isCancelled() {
					return nil, w.stop()
				}
				response.Values = faultyValues(filled(replies[0]), s.faults)
				repliesReturned = true
			}
		}
	} else {
		for i, r := range replies {
			if err := s.sleep(w, r.GetDelayMs()); err != nil {
				return nil, err
			}
			if w.isCancelled() {
				return nil, w.stop()
			}
			resp := &pb.ScriptedResponse{Values: faultyValues(filled(r), s.faults)}
			if code == codes.OK && i == len(replies)-1 {
				resp.RequestInfo = info
				infoInResponse = true
			}
			err := c.send(resp)
			w.record.replySent()
			// scripted-cancel-ignored hands every reply to grpc-go, whatever the sends gave.
			if err != nil && !w.ignored {
				return nil, w.failed(err)
			}
		}
	}

	// 8. The trailers, RequestInfo (unless the last response carried it), the status and its
	// details.
	for _, m := range trailers {
		if err := c.setTrailer(s.metadataOf(m)); err != nil {
			return nil, w.failed(refused(m.GetKey(), err))
		}
	}
	if !infoInResponse {
		encoded, err := proto.Marshal(info)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "scripted: cannot encode RequestInfo: %v", err)
		}
		if err := c.setTrailer(metadata.Pairs(requestInfoKey, string(encoded))); err != nil {
			return nil, w.failed(err)
		}
	}
	st, err := s.finalStatus(c, script, code, message)
	if err != nil {
		return nil, w.failed(err)
	}
	if st.Code() != codes.OK {
		return nil, st.Err()
	}
	if repliesReturned {
		w.record.replySent()
	}
	return response, nil
}

// refuse is the status of a call the handler ends before anything is sent, because its script
// asks what the server cannot do (code, message): ended as every error is (step 8), with
// RequestInfo as it stands in its trailer, and under scripted-status-unknown with UNKNOWN, as
// every non-zero code the server ends a call with.
func (s *Service) refuse(c call, info *pb.RequestInfo, code codes.Code, message string) error {
	if s.faults.Has(faults.ScriptedRequestInfoEmpty) {
		info = &pb.RequestInfo{}
	}
	if encoded, err := proto.Marshal(info); err == nil {
		_ = c.setTrailer(metadata.Pairs(requestInfoKey, string(encoded)))
	}
	if s.faults.Has(faults.ScriptedStatusUnknown) {
		code = codes.Unknown
	}
	return status.Error(code, message)
}

// restartServer sets off the restart of the server this call came on, ms milliseconds of
// downtime after its shutdown (script.restart_server_after_ms), and returns without waiting for
// the shutdown: a graceful one lets this call run to its end.
//
// Under scripted-shutdown-abrupt the shutdown is grpc-go's Stop, which closes every connection of
// the server (v1.85.0 server.go, Server.stop -> closeServerTransportsLocked -> ServerTransport.Close,
// which cancels each stream's context): the calls in flight, this one included, are cancelled. As
// Stop runs in another goroutine, a call with nothing left to wait for could otherwise end before
// it; so the handler waits until its call is cancelled (or the shutdown has returned) and then
// goes on, to find its call cancelled at its next check. Stop does not wait for the handlers (no
// grpc.WaitForHandlers option), so this wait cannot hold the shutdown up.
func (s *Service) restartServer(ctx context.Context, ms int32) {
	if s.restart == nil {
		log.Printf("scripted: restart_server_after_ms=%d ignored: this server has no way to restart", ms)
		return
	}
	graceful := !s.faults.Has(faults.ScriptedShutdownAbrupt)
	stopped := s.restart(time.Duration(ms)*time.Millisecond, graceful)
	if !graceful && stopped != nil {
		select {
		case <-stopped:
		case <-ctx.Done():
		}
	}
}

// watcher is one call's cancellation as its handler sees it (docs/peer-contract.md, the scripted
// server's "Cancellation"): grpc-go cancels the handler's context when the client cancels the
// call, its deadline passes or the connection is lost (ctx.Done()). Every wait ends when it does;
// before each reply, and whenever a read or send fails, the handler checks it and, once the call
// is cancelled, stops: it sends nothing more and the call's record says cancelled. Under
// scripted-cancel-ignored (ignored) the handler never looks.
type watcher struct {
	ctx     context.Context
	ignored bool
	// cancelled: the handler stopped because the call was cancelled.
	cancelled bool
	// record is the call's record (script.call_id), nil without one.
	record *callRecord
}

// watched is the context the handler's waits end with: nil (never) under scripted-cancel-ignored.
func (w *watcher) watched() context.Context {
	if w.ignored {
		return nil
	}
	return w.ctx
}

// isCancelled reports whether the call is cancelled (never under scripted-cancel-ignored).
func (w *watcher) isCancelled() bool {
	return !w.ignored && w.ctx.Err() != nil
}

// stop is the handler stopping because the call was cancelled: its status (grpc-go sends
// nothing more on a cancelled stream; the client has its own).
func (w *watcher) stop() error {
	w.cancelled = true
	return status.FromContextError(w.ctx.Err()).Err()
}

// failed is a read or send that failed with err: the handler stops as cancelled when the call is,
// else ends the call with err.
func (w *watcher) failed(err error) error {
	if w.isCancelled() {
		return w.stop()
	}
	return err
}

// filled is a reply's values with its fill_bytes applied: when fill_bytes is N > 0, a copy of
// values (a new Values when absent) whose by is N zero bytes; else values as they are. The
// script's own values stay untouched: RequestInfo reports the request as it came.
func filled(r *pb.Reply) *pb.Values {
	n := r.GetFillBytes()
	if n <= 0 {
		return r.GetValues()
	}
	v := &pb.Values{}
	if r.GetValues() != nil {
		v = proto.Clone(r.GetValues()).(*pb.Values)
	}
	v.By = make([]byte, n)
	return v
}

// finalStatus is the call's status, with its details.
//
// The details go through grpc-go's rich-error API, status.FromProto (code, message and details
// in one google.rpc.Status, which the transport writes as grpc-status-details-bin: v1.85.0
// internal/transport/http2_server.go, http2Server.writeStatus). That API takes the status code
// from the proto, so it cannot carry details whose code differs from the status, nor details on
// an OK status (Status.Err() is nil for OK). grpc-go can still send both, through its metadata
// API: grpc-status-details-bin is not a reserved header in v1.85.0 (internal/transport/
// http_util.go, isReservedHeader lists content-type, user-agent, grpc-message-type,
// grpc-encoding, grpc-message, grpc-status, grpc-timeout and te), and writeStatus only drops a
// user trailer of that name when the status itself has details ("Do not use the user's
// grpc-status-details-bin (if present) if we are even attempting to set our own"). So those
// cases set the trailer and end with a status without details, instead of the contract's
// UNIMPLEMENTED fallback (which is for a library that cannot send them at all).
func (s *Service) finalStatus(c call, script *pb.Script, code codes.Code, message string) (*status.Status, error) {
	details := script.GetDetails()
	if len(details) == 0 || s.faults.Has(faults.ScriptedDetailsDropped) {
		return status.New(code, message), nil
	}
	detailsCode := code
	if script.DetailsCode != nil {
		detailsCode = codes.Code(script.GetDetailsCode())
	}
	p := &spb.Status{Code: int32(detailsCode), Message: message, Details: details}
	if detailsCode == code && code != codes.OK {
		return status.FromProto(p), nil
	}
	encoded, err := proto.Marshal(p)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "scripted: cannot encode the details: %v", err)
	}
	if err := c.setTrailer(metadata.Pairs(statusDetailsKey, string(encoded))); err != nil {
		return nil, err
	}
	return status.New(code, message), nil
}

// sendHeaders sets the scripted headers one Metadatum at a time (so that a value grpc-go
// refuses names its key), then sends them explicitly.
func (s *Service) sendHeaders(c call, headers []*pb.Metadatum) error {
	for _, m := range headers {
		if err := c.setHeader(s.metadataOf(m)); err != nil {
			return refused(m.GetKey(), err)
		}
	}
	return c.sendHeader()
}

// refused is the status of a call whose metadata grpc-go refused to send.
func refused(key string, err error) error {
	return status.Errorf(codes.Internal, "scripted: cannot send metadata %s: %s", key, status.Convert(err).Message())
}

// metadataOf is one scripted Metadatum as grpc-go metadata: its values added one by one, in
// order, with metadata.MD.Append (under scripted-metadata-joined: as one value, text joined
// with ", ", binary concatenated). A "-bin" key carries binary_values, any other key values.
func (s *Service) metadataOf(m *pb.Metadatum) metadata.MD {
	var values []string
	if strings.HasSuffix(m.GetKey(), "-bin") {
		for _, b := range m.GetBinaryValues() {
			values = append(values, string(b))
		}
		if s.faults.Has(faults.ScriptedMetadataJoined) && len(values) > 1 {
			values = []string{strings.Join(values, "")}
		}
	} else {
		values = m.GetValues()
		if s.faults.Has(faults.ScriptedMetadataJoined) && len(values) > 1 {
			values = []string{strings.Join(values, ", ")}
		}
	}
	md := metadata.MD{}
	for _, v := range values {
		md.Append(m.GetKey(), v)
	}
	return md
}

// leftOutOfRequestInfo are the request headers RequestInfo leaves out, besides grpc-*.
var leftOutOfRequestInfo = []string{":authority", "user-agent", "te", "content-type"}

// requestHeaders is the request metadata as grpc-go gave it to the handler: a map
// (metadata.MD), so in sorted key order (grpc-go keeps no order between keys), each key's
// values in order; "-bin" values are the bytes grpc-go decoded.
func requestHeaders(ctx context.Context) []*pb.Metadatum {
	md, _ := metadata.FromIncomingContext(ctx)
	var out []*pb.Metadatum
	for _, k := range slices.Sorted(maps.Keys(md)) {
		if slices.Contains(leftOutOfRequestInfo, k) || strings.HasPrefix(k, "grpc-") {
			continue
		}
		m := &pb.Metadatum{Key: k}
		if strings.HasSuffix(k, "-bin") {
			for _, v := range md[k] {
				m.BinaryValues = append(m.BinaryValues, []byte(v))
			}
		} else {
			m.Values = slices.Clone(md[k])
		}
		out = append(out, m)
	}
	return out
}

// authority is RequestInfo.authority: the call's :authority as grpc-go gives it to the handler,
// the ":authority" entry of the incoming metadata (the transport puts it there, from the Host
// header when the client sent no :authority: internal/transport/http2_server.go,
// operateHeaders); nil when there is none, or under scripted-authority-dropped.
func (s *Service) authority(ctx context.Context) *string {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md[":authority"]
	if len(values) == 0 || s.faults.Has(faults.ScriptedAuthorityDropped) {
		return nil
	}
	return &values[0]
}

// faultyPeer is the peer RequestInfo reports under scripted-peer-ipv4, whoever the client is.
const faultyPeer = "ipv4:127.0.0.1:1"

// clientPeer is RequestInfo.peer: the client's address as grpc-go names it, Network() + ":" + String()
// of the peer.FromContext address ("tcp:127.0.0.1:5555", "tcp:[::1]:5555", "unix:@" for a
// client on an unnamed Unix socket); nil when grpc-go gives none.
func (s *Service) clientPeer(ctx context.Context) *string {
	if s.faults.Has(faults.ScriptedPeerIPv4) {
		return proto.String(faultyPeer)
	}
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return nil
	}
	return proto.String(p.Addr.Network() + ":" + p.Addr.String())
}

// timeLeft is the time left to ctx's deadline in ms, rounded down (0 once it has passed), or -1
// without a deadline.
func timeLeft(ctx context.Context) int64 {
	deadline, ok := ctx.Deadline()
	if !ok {
		return -1
	}
	return max(time.Until(deadline).Milliseconds(), 0)
}

// mangled is scripted-message-mangled: every character outside printable ASCII becomes "?",
// every "%" is doubled.
func mangled(message string) string {
	var b strings.Builder
	for _, r := range message {
		switch {
		case r == '%':
			b.WriteString("%%")
		case r < 0x20 || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sleep waits a scripted delay of ms milliseconds, or until the call is cancelled (the handler
// then stops); not at all under scripted-delay-ignored, to the end under scripted-cancel-ignored.
func (s *Service) sleep(w *watcher, ms int32) error {
	if s.faults.Has(faults.ScriptedDelayIgnored) || ms <= 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	var cancelled <-chan struct{}
	if ctx := w.watched(); ctx != nil {
		cancelled = ctx.Done()
	}
	select {
	case <-t.C:
		return nil
	case <-cancelled:
		return w.stop()
	}
}
