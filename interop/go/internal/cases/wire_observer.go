package cases

import (
	"context"
	"sync"

	"google.golang.org/grpc/stats"
)

// A grpc-go client hands the application decoded messages and nothing about how they
// travelled; its stats.Handler, though, gets per message an OutPayload or InPayload with
// the size on the wire (CompressedLength) and the size of the encoded message (Length),
// delivered before SendMsg / RecvMsg return (stream.go, csAttempt.sendMsg and recvMsg). A
// message that went uncompressed has CompressedLength == Length exactly (rpc_util.go,
// outPayload and recvAndDecompress); a gzip-compressed one differs unless its gzip form is
// exactly as long as the original, which the suite's zero-filled payloads never are.

// wire is what the stats handler saw of one call's messages, in order: true for each message
// that went compressed.
type wire struct {
	mu             sync.Mutex
	sent, received []bool
}

type wireKey struct{}

// observed returns a context for a call whose messages are to be recorded, and the record.
func observed(ctx context.Context) (context.Context, *wire) {
	w := &wire{}
	return context.WithValue(ctx, wireKey{}, w), w
}

// sentCompressed and receivedCompressed return the record so far.
func (w *wire) sentCompressed() []bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]bool(nil), w.sent...)
}

func (w *wire) receivedCompressed() []bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]bool(nil), w.received...)
}

// wireObserver is every channel's stats.Handler: it records the messages of the calls made
// with an observed context.
type wireObserver struct{}

func (wireObserver) HandleRPC(ctx context.Context, s stats.RPCStats) {
	w, ok := ctx.Value(wireKey{}).(*wire)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch s := s.(type) {
	case *stats.OutPayload:
		w.sent = append(w.sent, s.CompressedLength != s.Length)
	case *stats.InPayload:
		w.received = append(w.received, s.CompressedLength != s.Length)
	}
}

func (wireObserver) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return ctx
}

func (wireObserver) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (wireObserver) HandleConn(context.Context, stats.ConnStats) {}
