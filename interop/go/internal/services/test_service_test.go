package services_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/grpctesting"
	"interopmatrix/gen/health"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
	"interopmatrix/internal/wiretap"
)

func testClient(t *testing.T, f faults.Set) (grpctesting.TestServiceClient, context.Context) {
	conn, ctx := connect(t, f)
	return grpctesting.NewTestServiceClient(conn), ctx
}

func params(sizes ...int32) []*grpctesting.ResponseParameters {
	out := make([]*grpctesting.ResponseParameters, len(sizes))
	for i, s := range sizes {
		out[i] = &grpctesting.ResponseParameters{Size: s}
	}
	return out
}

// responseStream is the receiving side of a TestService streaming call.
type responseStream interface {
	Recv() (*grpctesting.StreamingOutputCallResponse, error)
}

// recvAll reads a stream to its end: the payload sizes and the final status.
func recvAll(stream responseStream) ([]int, error) {
	var sizes []int
	for {
		reply, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return sizes, nil
		}
		if err != nil {
			return sizes, err
		}
		sizes = append(sizes, len(reply.GetPayload().GetBody()))
	}
}

func TestHealthServesTestServiceOnly(t *testing.T) {
	for _, f := range []faults.Set{nil, {faults.TestingImplementEverything: true}} {
		conn, ctx := connect(t, f)
		client := health.NewHealthClient(conn)
		if reply, err := client.Check(ctx, &health.HealthCheckRequest{Service: "grpc.testing.TestService"}); err != nil || reply.GetStatus() != health.HealthCheckResponse_SERVING {
			t.Errorf("faults %v: Check(grpc.testing.TestService) = %v, %v", f, reply, err)
		}
		if _, err := client.Check(ctx, &health.HealthCheckRequest{Service: "grpc.testing.UnimplementedService"}); status.Code(err) != codes.NotFound {
			t.Errorf("faults %v: Check(grpc.testing.UnimplementedService) error %v, want NOT_FOUND", f, err)
		}
	}
}

func TestUnaryCallRejectsWhatItCannotAnswer(t *testing.T) {
	client, ctx := testClient(t, nil)
	for name, req := range map[string]*grpctesting.SimpleRequest{
		"response_type 1":   {ResponseType: grpctesting.PayloadType(1), ResponseSize: 1},
		"response_size -1":  {ResponseSize: -1},
		"expect_compressed": {ExpectCompressed: &grpctesting.BoolValue{Value: true}},
	} {
		if _, err := client.UnaryCall(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: error %v, want INVALID_ARGUMENT", name, err)
		}
	}
	reply, err := client.UnaryCall(ctx, &grpctesting.SimpleRequest{ResponseSize: 3, ResponseStatus: &grpctesting.EchoStatus{Code: 0, Message: "ignored"}, ExpectCompressed: &grpctesting.BoolValue{}})
	if err != nil || len(reply.GetPayload().GetBody()) != 3 || reply.GetPayload().GetType() != grpctesting.PayloadType_COMPRESSABLE {
		t.Errorf("response_status code 0, expect_compressed:false uncompressed: %v, %v; want a payload of 3", reply, err)
	}
	_, err = client.UnaryCall(ctx, &grpctesting.SimpleRequest{ResponseStatus: &grpctesting.EchoStatus{Code: int32(codes.ResourceExhausted), Message: " m "}})
	if s := status.Convert(err); s.Code() != codes.ResourceExhausted || s.Message() != " m " {
		t.Errorf("echo status: %v", err)
	}
}

func TestEchoMetadataOnEveryMethod(t *testing.T) {
	client, ctx := testClient(t, nil)
	ctx = metadata.AppendToOutgoingContext(ctx, "x-grpc-test-echo-initial", "v", "x-grpc-test-echo-trailing-bin", "\x00\xff")
	var header, trailer metadata.MD
	if _, err := client.EmptyCall(ctx, &grpctesting.Empty{}, grpc.Header(&header), grpc.Trailer(&trailer)); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(header.Get("x-grpc-test-echo-initial"), trailer.Get("x-grpc-test-echo-trailing-bin")) != fmt.Sprint([]string{"v"}, []string{"\x00\xff"}) {
		t.Errorf("EmptyCall: header %v, trailer %v", header, trailer)
	}
	stream, err := client.StreamingOutputCall(ctx, &grpctesting.StreamingOutputCallRequest{ResponseParameters: params(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := recvAll(stream); err != nil {
		t.Fatal(err)
	}
	header, _ = stream.Header()
	if got := fmt.Sprint(header.Get("x-grpc-test-echo-initial"), stream.Trailer().Get("x-grpc-test-echo-trailing-bin")); got != fmt.Sprint([]string{"v"}, []string{"\x00\xff"}) {
		t.Errorf("StreamingOutputCall: echoed %s", got)
	}
	// Also on a call that fails.
	_, err = client.UnaryCall(ctx, &grpctesting.SimpleRequest{ResponseStatus: &grpctesting.EchoStatus{Code: 2, Message: "x"}}, grpc.Header(&header), grpc.Trailer(&trailer))
	if status.Code(err) != codes.Unknown || len(header.Get("x-grpc-test-echo-initial")) != 1 || len(trailer.Get("x-grpc-test-echo-trailing-bin")) != 1 {
		t.Errorf("failing UnaryCall: %v, header %v, trailer %v", err, header, trailer)
	}
}

func TestStreamingOutputCallWaitsIntervalMicroseconds(t *testing.T) {
	client, ctx := testClient(t, nil)
	p := params(1, 2, 3, 4)
	for _, param := range p {
		param.IntervalUs = 50_000 // 50 ms: 4 of them are 200 ms, where milliseconds would be 200 s
	}
	start := time.Now()
	stream, err := client.StreamingOutputCall(ctx, &grpctesting.StreamingOutputCallRequest{ResponseParameters: p,
		ResponseStatus: &grpctesting.EchoStatus{Code: int32(codes.Aborted), Message: "after the responses"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := recvAll(stream)
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("4 responses 50000 µs apart took %v", elapsed)
	}
	if fmt.Sprint(got) != "[1 2 3 4]" || status.Code(err) != codes.Aborted {
		t.Errorf("responses %v, status %v; want [1 2 3 4] then ABORTED", got, err)
	}
	stream, err = client.StreamingOutputCall(ctx, &grpctesting.StreamingOutputCallRequest{ResponseType: grpctesting.PayloadType(7), ResponseParameters: params(1)})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := recvAll(stream); len(got) != 0 || status.Code(err) != codes.InvalidArgument {
		t.Errorf("response_type 7: responses %v, status %v; want none, INVALID_ARGUMENT", got, err)
	}
}

func TestHalfDuplexCallAnswersAfterHalfClose(t *testing.T) {
	client, ctx := testClient(t, nil)
	stream, err := client.HalfDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int32{5, 6} {
		if err := stream.Send(&grpctesting.StreamingOutputCallRequest{ResponseParameters: params(size, size+10)}); err != nil {
			t.Fatal(err)
		}
	}
	first := make(chan error, 1)
	go func() {
		reply, err := stream.Recv()
		if err == nil && len(reply.GetPayload().GetBody()) != 5 {
			err = fmt.Errorf("first response of %d bytes", len(reply.GetPayload().GetBody()))
		}
		first <- err
	}()
	select {
	case err := <-first:
		t.Fatalf("a response before the half-close: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got, err := recvAll(stream); err != nil || fmt.Sprint(got) != "[15 6 16]" {
		t.Errorf("the rest: %v, %v; want [15 6 16]", got, err)
	}
}

func TestFullDuplexCallEndsWithTheEchoedStatus(t *testing.T) {
	client, ctx := testClient(t, nil)
	stream, err := client.FullDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(&grpctesting.StreamingOutputCallRequest{ResponseParameters: params(3)})
	stream.Send(&grpctesting.StreamingOutputCallRequest{ResponseStatus: &grpctesting.EchoStatus{Code: int32(codes.DataLoss), Message: "stop"}})
	stream.Send(&grpctesting.StreamingOutputCallRequest{ResponseParameters: params(4)})
	stream.CloseSend()
	if got, err := recvAll(stream); fmt.Sprint(got) != "[3]" || status.Code(err) != codes.DataLoss {
		t.Errorf("responses %v, status %v; want [3] then DATA_LOSS", got, err)
	}
}

func TestStreamingInputCallChecksEachMessage(t *testing.T) {
	client, ctx := testClient(t, nil)
	stream, err := client.StreamingInputCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(&grpctesting.StreamingInputCallRequest{Payload: &grpctesting.Payload{Body: make([]byte, 10)}, ExpectCompressed: &grpctesting.BoolValue{}})
	stream.Send(&grpctesting.StreamingInputCallRequest{Payload: &grpctesting.Payload{Body: make([]byte, 10)}, ExpectCompressed: &grpctesting.BoolValue{Value: true}})
	if _, err := stream.CloseAndRecv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("second message expect_compressed:true sent uncompressed: %v, want INVALID_ARGUMENT", err)
	}
}

// TestResponseCompressionOnTheWire: what the server compresses, as the frames show it.
func TestResponseCompressionOnTheWire(t *testing.T) {
	port, tap := wiretap.Start(t, servertest.Start(t, nil))
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := grpctesting.NewTestServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gz := grpc.UseCompressor(gzip.Name)
	for _, c := range []struct {
		compressed *grpctesting.BoolValue
		opts       []grpc.CallOption
	}{
		{nil, nil},                   // plain request: plain response
		{nil, []grpc.CallOption{gz}}, // gzip request, response_compressed unset: uncompressed
		{&grpctesting.BoolValue{Value: false}, []grpc.CallOption{gz}},
		{&grpctesting.BoolValue{Value: true}, nil},
	} {
		if _, err := client.UnaryCall(ctx, &grpctesting.SimpleRequest{ResponseSize: 1000, ResponseCompressed: c.compressed}, c.opts...); err != nil {
			t.Fatal(err)
		}
	}
	// A plain duplex call asking for [compressed, uncompressed] then [unset]: the call goes
	// gzip and the uncompressed ones go as PreparedMsg. A gzip duplex call asking for none
	// compressed: the call's send compressor is switched off.
	for _, opts := range [][]grpc.CallOption{nil, {gz}} {
		stream, err := client.FullDuplexCall(ctx, opts...)
		if err != nil {
			t.Fatal(err)
		}
		first := params(100, 100)
		first[0].Compressed = &grpctesting.BoolValue{Value: opts == nil}
		first[1].Compressed = &grpctesting.BoolValue{Value: false}
		stream.Send(&grpctesting.StreamingOutputCallRequest{ResponseParameters: first})
		stream.Send(&grpctesting.StreamingOutputCallRequest{ResponseParameters: params(100)})
		stream.CloseSend()
		if got, err := recvAll(stream); err != nil || len(got) != 3 {
			t.Fatalf("FullDuplexCall: %v, %v", got, err)
		}
	}
	const want = "[[false] [false] [false] [true] [true false false] [false false false]]"
	if got := fmt.Sprint(tap.Messages(wiretap.ToClient)); got != want {
		t.Errorf("responses' compressed flags per call: %s, want %s", got, want)
	}
}

// TestTestingStatusUnknownFault: every echoed status ends the call with UNKNOWN and the
// message unchanged, on UnaryCall, StreamingOutputCall and FullDuplexCall.
func TestTestingStatusUnknownFault(t *testing.T) {
	client, ctx := testClient(t, faults.Set{faults.TestingStatusUnknown: true})
	echo := &grpctesting.EchoStatus{Code: int32(codes.FailedPrecondition), Message: " m "}
	_, err := client.UnaryCall(ctx, &grpctesting.SimpleRequest{ResponseStatus: echo})
	if s := status.Convert(err); s.Code() != codes.Unknown || s.Message() != " m " {
		t.Errorf("UnaryCall: %v, want UNKNOWN \" m \"", err)
	}
	output, err := client.StreamingOutputCall(ctx, &grpctesting.StreamingOutputCallRequest{ResponseParameters: params(1, 2), ResponseStatus: echo})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := recvAll(output); fmt.Sprint(got) != "[1 2]" || status.Code(err) != codes.Unknown || status.Convert(err).Message() != " m " {
		t.Errorf("StreamingOutputCall: responses %v, status %v; want [1 2] then UNKNOWN \" m \"", got, err)
	}
	duplex, err := client.FullDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	duplex.Send(&grpctesting.StreamingOutputCallRequest{ResponseParameters: params(3)})
	duplex.Send(&grpctesting.StreamingOutputCallRequest{ResponseStatus: echo})
	duplex.CloseSend()
	if got, err := recvAll(duplex); fmt.Sprint(got) != "[3]" || status.Code(err) != codes.Unknown || status.Convert(err).Message() != " m " {
		t.Errorf("FullDuplexCall: responses %v, status %v; want [3] then UNKNOWN \" m \"", got, err)
	}
}

// TestTestingStreamStatusOKFault: StreamingOutputCall ends OK whatever response_status asks;
// FullDuplexCall still echoes it.
func TestTestingStreamStatusOKFault(t *testing.T) {
	client, ctx := testClient(t, faults.Set{faults.TestingStreamStatusOK: true})
	echo := &grpctesting.EchoStatus{Code: int32(codes.OutOfRange), Message: "out"}
	output, err := client.StreamingOutputCall(ctx, &grpctesting.StreamingOutputCallRequest{ResponseParameters: params(8, 8), ResponseStatus: echo})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := recvAll(output); fmt.Sprint(got) != "[8 8]" || err != nil {
		t.Errorf("StreamingOutputCall: responses %v, status %v; want [8 8] then OK", got, err)
	}
	duplex, err := client.FullDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	duplex.Send(&grpctesting.StreamingOutputCallRequest{ResponseStatus: echo})
	duplex.CloseSend()
	if got, err := recvAll(duplex); len(got) != 0 || status.Code(err) != codes.OutOfRange {
		t.Errorf("FullDuplexCall: responses %v, status %v; want none, then OUT_OF_RANGE", got, err)
	}
}

// TestTestingIntervalIgnoredFault: StreamingOutputCall and FullDuplexCall send at once what
// should come 200 ms apart; HalfDuplexCall still waits.
func TestTestingIntervalIgnoredFault(t *testing.T) {
	client, ctx := testClient(t, faults.Set{faults.TestingIntervalIgnored: true})
	slow := params(1, 1, 1)
	for _, p := range slow {
		p.IntervalUs = 200_000
	}
	req := &grpctesting.StreamingOutputCallRequest{ResponseParameters: slow}
	// duplex opens a duplex call, sends req and half-closes.
	duplex := func(open func(context.Context, ...grpc.CallOption) (grpctesting.TestService_FullDuplexCallClient, error)) func() (responseStream, error) {
		return func() (responseStream, error) {
			stream, err := open(ctx)
			if err == nil {
				stream.Send(req)
				stream.CloseSend()
			}
			return stream, err
		}
	}
	for _, c := range []struct {
		name  string
		start func() (responseStream, error)
		waits bool
	}{
		{"StreamingOutputCall", func() (responseStream, error) { return client.StreamingOutputCall(ctx, req) }, false},
		{"FullDuplexCall", duplex(client.FullDuplexCall), false},
		{"HalfDuplexCall", duplex(client.HalfDuplexCall), true},
	} {
		start := time.Now()
		stream, err := c.start()
		if err != nil {
			t.Fatal(err)
		}
		got, err := recvAll(stream)
		elapsed := time.Since(start)
		if fmt.Sprint(got) != "[1 1 1]" || err != nil {
			t.Errorf("%s: responses %v, status %v; want [1 1 1], OK", c.name, got, err)
		}
		if waited := elapsed >= 540*time.Millisecond; waited != c.waits {
			t.Errorf("testing-interval-ignored: %s took %v for three responses 200 ms apart; waits %v, want %v", c.name, elapsed, waited, c.waits)
		}
	}
}
