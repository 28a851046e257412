package services

import (
	"context"
	"log"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/gzip"
)

// How grpc-go lets a server choose, message by message, whether a response goes out compressed:
//
//   - The call's send compressor is one name for the whole call, sent in the response headers:
//     by default the request's grpc-encoding (server.go, processRPC), else whatever
//     grpc.SetSendCompressor names while the headers are still unsent (it fails afterwards:
//     internal/transport/server_stream.go, SetSendCompress). "identity" switches it off.
//   - ServerStream.SendMsg compresses every non-empty message with the send compressor
//     (stream.go, serverStream.SendMsg → prepareMsg → rpc_util.go, compress).
//   - A grpc.PreparedMsg carries its own compressed flag, which SendMsg keeps (stream.go,
//     prepareMsg); PreparedMsg.Encode compresses with the compressor recorded in the stream's
//     context (preloader.go), which is the request's compressor, none for an uncompressed
//     request, whatever SetSendCompressor said.
//
// So, on a call whose send compressor is gzip, a message goes out uncompressed as a
// PreparedMsg when the request was not compressed. The combinations left out — an
// uncompressed response after the headers went out on a call whose request was compressed,
// or a compressed one after the headers went out without gzip — are sent the library's way
// and logged; no case of the suite asks for them.

// setUnaryCompression makes a unary call's response compressed (want true) or not (want
// false), before the headers go out. Like every response of TestService that can be asked
// for compression, it is compressed only if asked.
func setUnaryCompression(ctx context.Context, want bool) {
	name := encoding.Identity
	if want {
		name = gzip.Name
	} else if !requestEncoded(ctx) {
		return // nothing would compress the response
	}
	if err := grpc.SetSendCompressor(ctx, name); err != nil {
		log.Printf("UnaryCall: cannot set the response compression to %s: %v", name, err)
	}
}

// responseSender sends the responses of a streaming call, each compressed or not as asked.
type responseSender struct {
	stream grpc.ServerStream
	// compressor is the call's send compressor ("" for none).
	compressor string
	// headersSent: the first response went out, and with it the headers.
	headersSent bool
	// preparedPlain: a PreparedMsg encoded on this stream is uncompressed (the request was).
	preparedPlain bool
}

func newResponseSender(stream grpc.ServerStream) *responseSender {
	ctx := stream.Context()
	r := &responseSender{stream: stream, preparedPlain: !requestEncoded(ctx)}
	if requestEncoded(ctx) {
		r.compressor = inboundOf(ctx).encoding // grpc-go answers in the request's encoding
	}
	return r
}

// expectCompressed is called before sending when some response to come must be compressed:
// it switches the call to gzip while the headers can still say so.
func (r *responseSender) expectCompressed() {
	if r.headersSent || r.compressor == gzip.Name {
		return
	}
	if err := grpc.SetSendCompressor(r.stream.Context(), gzip.Name); err != nil {
		log.Printf("cannot compress the responses: %v", err)
		return
	}
	r.compressor = gzip.Name
}

// send sends msg, compressed or not.
func (r *responseSender) send(msg any, compressed bool) error {
	switch {
	case compressed:
		r.expectCompressed()
		if r.compressor == "" {
			log.Print("a response asked to be compressed goes out uncompressed: the headers went out without a compressor")
		}
	case r.compressor == "":
	case r.preparedPlain:
		var prepared grpc.PreparedMsg
		if err := prepared.Encode(r.stream, msg); err != nil {
			return err
		}
		msg = &prepared
	case !r.headersSent:
		if err := grpc.SetSendCompressor(r.stream.Context(), encoding.Identity); err != nil {
			return err
		}
		r.compressor = ""
	default:
		log.Printf("a response asked to be uncompressed goes out compressed (%s): the request was compressed and the headers are out", r.compressor)
	}
	err := r.stream.SendMsg(msg)
	r.headersSent = true
	return err
}
