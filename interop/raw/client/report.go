package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"unicode/utf8"

	"golang.org/x/net/http2/hpack"
)

// How a case's stream ended (report.End).
const (
	endByEndStream    = "end_stream"        // the server's END_STREAM
	endByRSTStream    = "rst_stream"        // the server's RST_STREAM on stream 1
	endByClose        = "connection_closed" // the connection ended first
	endByTimeout      = "timeout"           // the case's deadline passed first
	endByConnectFail  = "connect_failed"    // no HTTP/2 connection was made
	maxHexMessage     = 65536               // a longer message is reported by length and SHA-256
	maxDataLeftReport = 64                  // data_left shows at most this many bytes
)

// report is what a case observed on the wire: the case line's observed.raw. Every member but
// end and ms is absent when what it describes did not happen.
type report struct {
	HTTPStatus         *string      `json:"http_status,omitempty"`
	Headers            *headerList  `json:"headers,omitempty"`
	EndStreamOnHeaders bool         `json:"end_stream_on_headers,omitempty"`
	Trailers           *headerList  `json:"trailers,omitempty"`
	ExtraHeaderBlocks  []headerList `json:"extra_header_blocks,omitempty"`
	Messages           []message    `json:"messages,omitempty"`
	DataLeft           string       `json:"data_left,omitempty"`
	DataLeftLength     int          `json:"data_left_length,omitempty"`
	DataBytes          *int         `json:"data_bytes,omitempty"`
	End                string       `json:"end"`
	RSTStream          *uint32      `json:"rst_stream,omitempty"`
	GoAway             *goAway      `json:"goaway,omitempty"`
	WriteError         string       `json:"write_error,omitempty"`
	Error              string       `json:"error,omitempty"`
	MS                 float64      `json:"ms"`
}

// headerList is a header block as [[NAME, VALUE], …], each a text (see text).
type headerList [][2]any

// message is one gRPC length-prefixed message of the response.
type message struct {
	Compressed bool    `json:"compressed"`     // the flag byte is 1
	Flag       *int    `json:"flag,omitempty"` // the flag byte, when it is neither 0 nor 1
	Hex        *string `json:"hex,omitempty"`
	Length     *int    `json:"length,omitempty"` // instead of hex, for a message over maxHexMessage bytes
	SHA256     string  `json:"sha256,omitempty"`
}

// goAway is the first GOAWAY the server sent.
type goAway struct {
	Code         uint32 `json:"code"`
	LastStreamID uint32 `json:"last_stream_id"`
	Debug        any    `json:"debug"` // a text (see text)
}

// text is s as a JSON string when it is valid UTF-8, else {"$bytes": "hex"}.
func text(s string) any {
	if utf8.ValidString(s) {
		return s
	}
	return map[string]string{"$bytes": hex.EncodeToString([]byte(s))}
}

func newHeaderList(fields []hpack.HeaderField) *headerList {
	l := make(headerList, 0, len(fields))
	for _, f := range fields {
		l = append(l, [2]any{text(f.Name), text(f.Value)})
	}
	return &l
}

// record is what the connection's reader saw of the case's stream, until its end.
type record struct {
	blocks     [][]hpack.HeaderField // the header blocks of stream 1, in order
	endOnFirst bool                  // the first block had END_STREAM
	data       []byte                // the DATA payloads of stream 1, concatenated
	dataFrames int
	rstCode    *uint32
	goAway     *goAway
	end        string
	writeErr   string
	err        string
}

// report turns the record into the case's report.
func (r *record) report() *report {
	rep := &report{End: r.end, RSTStream: r.rstCode, GoAway: r.goAway, WriteError: r.writeErr, Error: r.err}
	for i, b := range r.blocks {
		switch i {
		case 0:
			rep.Headers = newHeaderList(b)
			rep.EndStreamOnHeaders = r.endOnFirst
			for _, f := range b {
				if f.Name == ":status" {
					v := f.Value
					rep.HTTPStatus = &v
					break
				}
			}
		case 1:
			rep.Trailers = newHeaderList(b)
		default:
			rep.ExtraHeaderBlocks = append(rep.ExtraHeaderBlocks, *newHeaderList(b))
		}
	}
	if r.dataFrames > 0 {
		n := len(r.data)
		rep.DataBytes = &n
		var left []byte
		rep.Messages, left = parseMessages(r.data)
		if len(left) > 0 {
			rep.DataLeft = hex.EncodeToString(left[:min(len(left), maxDataLeftReport)])
			rep.DataLeftLength = len(left)
		}
	}
	return rep
}

// parseMessages cuts data into gRPC length-prefixed messages and returns them with the bytes
// after the last complete one.
func parseMessages(data []byte) ([]message, []byte) {
	var msgs []message
	for len(data) >= 5 {
		n := binary.BigEndian.Uint32(data[1:5])
		if uint64(len(data)-5) < uint64(n) {
			break
		}
		body := data[5 : 5+int(n)]
		m := message{Compressed: data[0] == 1}
		if data[0] > 1 {
			flag := int(data[0])
			m.Flag = &flag
		}
		if len(body) > maxHexMessage {
			length := len(body)
			sum := sha256.Sum256(body)
			m.Length, m.SHA256 = &length, hex.EncodeToString(sum[:])
		} else {
			h := hex.EncodeToString(body)
			m.Hex = &h
		}
		msgs = append(msgs, m)
		data = data[5+int(n):]
	}
	return msgs, data
}
