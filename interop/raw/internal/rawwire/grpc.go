package rawwire

import (
	"encoding/binary"

	"golang.org/x/net/http2/hpack"
)

// LengthPrefixed is msg as a gRPC length-prefixed message: the flag byte (1 when compressed),
// length as a 4-byte big-endian number (true or not), then msg.
func LengthPrefixed(msg []byte, compressed bool, length uint32) []byte {
	b := make([]byte, 5, 5+len(msg))
	if compressed {
		b[0] = 1
	}
	binary.BigEndian.PutUint32(b[1:], length)
	return append(b, msg...)
}

// RequestHeaders is the header block of a correct gRPC call: POST to path, with the
// content-type and te a gRPC server asks for.
func RequestHeaders(scheme, path, authority string) []hpack.HeaderField {
	return []hpack.HeaderField{
		{Name: ":method", Value: "POST"},
		{Name: ":scheme", Value: scheme},
		{Name: ":path", Value: path},
		{Name: ":authority", Value: authority},
		{Name: "content-type", Value: "application/grpc"},
		{Name: "te", Value: "trailers"},
	}
}
