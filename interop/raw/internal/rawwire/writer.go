package rawwire

import (
	"bufio"
	"bytes"
	"io"
	"sync"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// DefaultMaxFrameSize is SETTINGS_MAX_FRAME_SIZE until the peer says otherwise.
const DefaultMaxFrameSize = 16384

// Writer writes the frames of one HTTP/2 connection: each write, by whichever goroutine,
// under one mutex and flushed at once, so that frames (and a header block's frames) are never
// interleaved. The first write error is sticky: every later write fails with it.
type Writer struct {
	// Framer writes into the Writer's buffer, only inside Write's or WriteLocked's fn, and
	// reads the reader NewWriter was given, only in the connection's reading goroutine. It
	// allows illegal writes: a raw peer sends what it is told to.
	Framer *http2.Framer

	mu   sync.Mutex
	bw   *bufio.Writer
	enc  *hpack.Encoder // one per connection: its dynamic table follows the frame order
	hbuf bytes.Buffer   // what enc writes
	err  error          // the first write error
	fail func()         // called at the first write error
}

// NewWriter returns the Writer of a connection that writes w and reads r. fail, if not nil,
// is called once, at the first write error, with the lock held.
func NewWriter(w io.Writer, r io.Reader, fail func()) *Writer {
	wr := &Writer{bw: bufio.NewWriterSize(w, 32<<10), fail: fail}
	wr.Framer = http2.NewFramer(wr.bw, r)
	wr.Framer.AllowIllegalWrites = true
	wr.enc = hpack.NewEncoder(&wr.hbuf)
	return wr
}

// Write runs fn, which writes frames, under the lock, and flushes them.
func (w *Writer) Write(fn func() error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.WriteLocked(fn)
}

// Lock takes the lock, for what must happen between writes (a change of the peer's settings)
// or with a write (WriteLocked).
func (w *Writer) Lock() { w.mu.Lock() }

// Unlock releases the lock.
func (w *Writer) Unlock() { w.mu.Unlock() }

// WriteLocked is Write for a caller that holds the lock.
func (w *Writer) WriteLocked(fn func() error) error {
	if w.err != nil {
		return w.err
	}
	err := fn()
	if err == nil {
		err = w.bw.Flush()
	}
	if err != nil {
		w.err = err
		if w.fail != nil {
			w.fail()
		}
	}
	return err
}

// WriteClientPreface writes the HTTP/2 client preface; the caller holds the lock (inside fn).
func (w *Writer) WriteClientPreface() error {
	_, err := io.WriteString(w.bw, http2.ClientPreface)
	return err
}

// ApplySetting applies s, one of the peer's settings, if it is one both programs follow:
// MAX_FRAME_SIZE, when valid, into *maxFrame (which the caller keeps, and passes to Piece),
// and HEADER_TABLE_SIZE to the HPACK encoder. It returns false for any other setting. The
// caller holds the lock.
func (w *Writer) ApplySetting(s http2.Setting, maxFrame *int) bool {
	switch s.ID {
	case http2.SettingMaxFrameSize:
		if s.Valid() == nil {
			*maxFrame = int(s.Val)
		}
	case http2.SettingHeaderTableSize:
		w.enc.SetMaxDynamicTableSizeLimit(s.Val)
	default:
		return false
	}
	return true
}

// WriteHeaderBlock HPACK-encodes fields exactly as given, in order, and writes the block on
// stream: HEADERS (END_STREAM with endStream), then CONTINUATION frames, each fragment at most
// piece bytes (see Piece), END_HEADERS on the last. It returns the block's length and the
// size of each fragment. The caller holds the lock (inside fn).
func (w *Writer) WriteHeaderBlock(stream uint32, fields []hpack.HeaderField, piece int, endStream bool) (int, []int, error) {
	w.hbuf.Reset()
	for _, f := range fields {
		if err := w.enc.WriteField(f); err != nil {
			return 0, nil, err
		}
	}
	block := w.hbuf.Bytes()
	first := block[:min(piece, len(block))]
	rest := block[len(first):]
	sizes := []int{len(first)}
	err := w.Framer.WriteHeaders(http2.HeadersFrameParam{
		StreamID: stream, BlockFragment: first, EndStream: endStream, EndHeaders: len(rest) == 0,
	})
	for err == nil && len(rest) > 0 {
		n := min(piece, len(rest))
		err = w.Framer.WriteContinuation(stream, n == len(rest), rest[:n])
		sizes = append(sizes, n)
		rest = rest[n:]
	}
	return len(block), sizes, err
}

// Piece is the size frames are cut at: limit when it is above 0 and below the peer's
// MAX_FRAME_SIZE maxFrame, else maxFrame.
func Piece(maxFrame, limit int) int {
	if limit > 0 && limit < maxFrame {
		return limit
	}
	return maxFrame
}
