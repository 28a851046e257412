package services

import (
	"context"
	"sync"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/stats"
)

// grpc-go hands a handler the decoded request and nothing about how it travelled: the
// message's compressed flag is read and dropped in rpc_util.go (recvAndDecompress). What it
// does report, to a stats.Handler and before RecvMsg returns (stream.go, serverStream.RecvMsg),
// is an InPayload per message with the size on the wire (CompressedLength) and the size after
// decompression (Length), and an InHeader with the call's grpc-encoding. An uncompressed
// message has CompressedLength == Length exactly; a compressed one differs unless its gzip
// form happens to be exactly as long as the original, which the suite's zero-filled payloads
// never are. That is how this server tells whether a request message arrived compressed.

// inbound is what the stats handler saw of one call's requests.
type inbound struct {
	mu             sync.Mutex
	encoding       string // the request's grpc-encoding ("" or "identity": none)
	lastCompressed bool   // whether the latest request message arrived compressed
}

type inboundKey struct{}

// inboundRecorder is the server's stats.Handler: it records, per call, the request encoding
// and whether each request message arrived compressed.
type inboundRecorder struct{}

func (inboundRecorder) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, inboundKey{}, &inbound{})
}

func (inboundRecorder) HandleRPC(ctx context.Context, s stats.RPCStats) {
	in, ok := ctx.Value(inboundKey{}).(*inbound)
	if !ok {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	switch s := s.(type) {
	case *stats.InHeader:
		in.encoding = s.Compression
	case *stats.InPayload:
		in.lastCompressed = encoded(in.encoding) && s.CompressedLength != s.Length
	}
}

func (inboundRecorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (inboundRecorder) HandleConn(context.Context, stats.ConnStats) {}

// encoded reports whether a grpc-encoding value names a compressor.
func encoded(name string) bool { return name != "" && name != encoding.Identity }

// inboundOf returns the record of the call whose handler context is ctx.
func inboundOf(ctx context.Context) *inbound {
	if in, ok := ctx.Value(inboundKey{}).(*inbound); ok {
		return in
	}
	return &inbound{} // no stats handler: nothing is known to be compressed
}

// lastRequestCompressed reports whether the request message the handler received last
// arrived compressed.
func lastRequestCompressed(ctx context.Context) bool {
	in := inboundOf(ctx)
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.lastCompressed
}

// requestEncoded reports whether the call's requests came with a compressing grpc-encoding;
// grpc-go then compresses the responses with it too unless told otherwise.
func requestEncoded(ctx context.Context) bool {
	in := inboundOf(ctx)
	in.mu.Lock()
	defer in.mu.Unlock()
	return encoded(in.encoding)
}
