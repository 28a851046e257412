package rawwire

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// failAfter is a writer that fails once it has taken n bytes.
type failAfter struct {
	n   int
	buf bytes.Buffer
}

func (w *failAfter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.n {
		return 0, errors.New("broken")
	}
	return w.buf.Write(p)
}

func TestWriteHeaderBlockCutsIntoContinuation(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, nil, nil)
	fields := []hpack.HeaderField{{Name: ":status", Value: "200"}, {Name: "X-Long", Value: strings.Repeat("ab", 40)}}
	var n int
	var sizes []int
	err := w.Write(func() error {
		var err error
		n, sizes, err = w.WriteHeaderBlock(3, fields, Piece(DefaultMaxFrameSize, 7), true)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, s := range sizes {
		total += s
		if i < len(sizes)-1 && s != 7 || s < 1 || s > 7 {
			t.Errorf("fragment sizes %v, want 7-byte pieces", sizes)
		}
	}
	if total != n || len(sizes) != (n+6)/7 {
		t.Errorf("fragment sizes %v for a %d-byte block", sizes, n)
	}

	// What went on the wire: HEADERS (END_STREAM, no END_HEADERS), then CONTINUATION frames.
	fr := http2.NewFramer(nil, &out)
	var block []byte
	for i := range sizes {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		last := i == len(sizes)-1
		switch f := f.(type) {
		case *http2.HeadersFrame:
			if i != 0 || !f.StreamEnded() || f.HeadersEnded() != last || f.StreamID != 3 {
				t.Fatalf("frame %d: %v", i, f.Header())
			}
			block = append(block, f.HeaderBlockFragment()...)
		case *http2.ContinuationFrame:
			if i == 0 || f.HeadersEnded() != last || f.StreamID != 3 {
				t.Fatalf("frame %d: %v", i, f.Header())
			}
			block = append(block, f.HeaderBlockFragment()...)
		default:
			t.Fatalf("frame %d: %v", i, f.Header())
		}
	}
	got, err := hpack.NewDecoder(4096, nil).DecodeFull(block)
	if err != nil || len(got) != 2 || got[1].Name != "X-Long" {
		t.Errorf("decoded %v, %v", got, err)
	}
}

func TestWriteErrorIsSticky(t *testing.T) {
	out := &failAfter{n: 9} // one empty frame fits, not two
	fails := 0
	w := NewWriter(out, nil, func() { fails++ })
	if err := w.Write(func() error { return w.Framer.WriteSettings() }); err != nil {
		t.Fatal(err)
	}
	err := w.Write(func() error { return w.Framer.WriteSettingsAck() })
	if err == nil || err.Error() != "broken" {
		t.Fatalf("second write: %v, want broken", err)
	}
	ran := false
	w.Lock()
	err2 := w.WriteLocked(func() error { ran = true; return nil })
	w.Unlock()
	if err2 != err || ran || fails != 1 {
		t.Errorf("after the failure: %v (fn ran: %v, fail called %d times), want the first error again", err2, ran, fails)
	}
}

func TestApplySettingAndPiece(t *testing.T) {
	w := NewWriter(&bytes.Buffer{}, nil, nil)
	maxFrame := DefaultMaxFrameSize
	for _, c := range []struct {
		s       http2.Setting
		applied bool
		want    int
	}{
		{http2.Setting{ID: http2.SettingMaxFrameSize, Val: 20000}, true, 20000},
		{http2.Setting{ID: http2.SettingMaxFrameSize, Val: 100}, true, 20000}, // invalid: below 16384
		{http2.Setting{ID: http2.SettingHeaderTableSize, Val: 0}, true, 20000},
		{http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1}, false, 20000},
	} {
		if applied := w.ApplySetting(c.s, &maxFrame); applied != c.applied || maxFrame != c.want {
			t.Errorf("%v: applied %v, max frame %d; want %v, %d", c.s, applied, maxFrame, c.applied, c.want)
		}
	}
	for _, c := range [][3]int{{16384, 0, 16384}, {16384, 7, 7}, {16384, 20000, 16384}, {16384, -1, 16384}} {
		if got := Piece(c[0], c[1]); got != c[2] {
			t.Errorf("Piece(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}
