package rawtest

import (
	"bytes"
	"fmt"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Frame is one thing a test peer read: a frame, a whole header block (HEADERS and the
// CONTINUATION frames after it), or, with EOF, the end of the connection.
type Frame struct {
	Type      http2.FrameType
	Stream    uint32
	EndStream bool // HEADERS, DATA
	Ack       bool // SETTINGS, PING

	Fields     []hpack.HeaderField // header block, decoded
	Pieces     []int               // header block: the fragment size of each frame
	EndHeaders []bool              // header block: END_HEADERS of each frame

	Data     []byte          // DATA payload, GOAWAY debug data
	Code     http2.ErrCode   // RST_STREAM, GOAWAY
	LastID   uint32          // GOAWAY
	Incr     uint32          // WINDOW_UPDATE
	Settings []http2.Setting // SETTINGS
	Ping     [8]byte         // PING
	EOF      bool            // the connection ended (the peer sets it when reading fails)
}

// FrameOf is f, just read from fr, as a Frame. For HEADERS it reads the CONTINUATION frames
// that end the block and decodes the block with dec.
func FrameOf(fr *http2.Framer, dec *hpack.Decoder, f http2.Frame) (Frame, error) {
	ev := Frame{Type: f.Header().Type, Stream: f.Header().StreamID}
	switch f := f.(type) {
	case *http2.HeadersFrame:
		ev.EndStream = f.StreamEnded()
		if err := ev.readHeaderBlock(fr, dec, f); err != nil {
			return Frame{}, err
		}
	case *http2.DataFrame:
		ev.EndStream = f.StreamEnded()
		ev.Data = bytes.Clone(f.Data())
	case *http2.RSTStreamFrame:
		ev.Code = f.ErrCode
	case *http2.GoAwayFrame:
		ev.Code, ev.LastID, ev.Data = f.ErrCode, f.LastStreamID, bytes.Clone(f.DebugData())
	case *http2.WindowUpdateFrame:
		ev.Incr = f.Increment
	case *http2.SettingsFrame:
		ev.Ack = f.IsAck()
		_ = f.ForeachSetting(func(s http2.Setting) error {
			ev.Settings = append(ev.Settings, s)
			return nil
		})
	case *http2.PingFrame:
		ev.Ack, ev.Ping = f.IsAck(), f.Data
	}
	return ev, nil
}

// readHeaderBlock reads from fr the CONTINUATION frames that end the header block f begins
// and decodes the block with dec.
func (ev *Frame) readHeaderBlock(fr *http2.Framer, dec *hpack.Decoder, f *http2.HeadersFrame) error {
	block := bytes.Clone(f.HeaderBlockFragment())
	ev.Pieces = []int{len(block)}
	ev.EndHeaders = []bool{f.HeadersEnded()}
	for !ev.EndHeaders[len(ev.EndHeaders)-1] {
		next, err := fr.ReadFrame()
		if err != nil {
			return err
		}
		cf, ok := next.(*http2.ContinuationFrame)
		if !ok || cf.StreamID != f.StreamID {
			return fmt.Errorf("a header block is followed by %v, not a CONTINUATION of stream %d", next.Header(), f.StreamID)
		}
		block = append(block, cf.HeaderBlockFragment()...)
		ev.Pieces = append(ev.Pieces, len(cf.HeaderBlockFragment()))
		ev.EndHeaders = append(ev.EndHeaders, cf.HeadersEnded())
	}
	fields, err := dec.DecodeFull(block)
	if err != nil {
		return fmt.Errorf("decoding the header block of stream %d: %v", f.StreamID, err)
	}
	ev.Fields = fields
	return nil
}
