package rawwire

import (
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"golang.org/x/net/http2/hpack"
)

// The kinds of action both programs take. README.md says what each puts on the wire.
var (
	// Headers is {"headers": [[NAME, VALUE], …], "end_stream": B, "split": N}.
	Headers = Kind{Name: "headers", Members: []string{"end_stream", "split"}, Read: readHeaders}

	// Message is {"message": HEX, "compressed": B, "length": N, "frame_size": N,
	// "end_stream": B}: Payload is the length-prefixed message.
	Message = Kind{Name: "message", Members: []string{"compressed", "length", "frame_size", "end_stream"}, Read: readMessage}

	// Data is {"data": HEX, "end_stream": B}.
	Data = Kind{Name: "data", Members: []string{"end_stream"}, Read: readData}

	// RSTStream is {"rst_stream": CODE}.
	RSTStream = Kind{Name: "rst_stream", Read: readRSTStream}

	// GoAway is {"goaway": CODE, "debug": TEXT}. The server's, GoAway.With("last_stream_id"),
	// takes a last stream id too (below 2^31).
	GoAway = Kind{Name: "goaway", Members: []string{"debug"}, Read: readGoAway}

	// SleepMS is {"sleep_ms": N}.
	SleepMS = Kind{Name: "sleep_ms", Read: readSleep}
)

// With returns the kind with these members too.
func (k Kind) With(members ...string) Kind {
	k.Members = slices.Concat(k.Members, members)
	return k
}

func readHeaders(o *Object, a *Action) error {
	var pairs [][]string
	if err := o.Get("headers", &pairs); err != nil {
		return err
	}
	for i, p := range pairs {
		if len(p) != 2 {
			return fmt.Errorf("headers[%d]: a header is [NAME, VALUE], this one has %d strings", i, len(p))
		}
		a.Fields = append(a.Fields, hpack.HeaderField{Name: p[0], Value: p[1]})
	}
	if err := o.size("split", &a.Split); err != nil {
		return err
	}
	return o.notNegative("split", a.Split)
}

func readMessage(o *Object, a *Action) error {
	var hexMsg string
	var compressed bool
	var length *uint32
	for _, err := range []error{o.Get("message", &hexMsg), o.Get("compressed", &compressed), o.Get("length", &length), o.size("frame_size", &a.FrameSize)} {
		if err != nil {
			return err
		}
	}
	msg, err := decodeHex("message", hexMsg)
	if err != nil {
		return err
	}
	if err := o.notNegative("frame_size", a.FrameSize); err != nil {
		return err
	}
	n := uint32(len(msg))
	if length != nil {
		n = *length
	}
	a.Payload = LengthPrefixed(msg, compressed, n)
	return nil
}

func readData(o *Object, a *Action) error {
	var hexData string
	if err := o.Get("data", &hexData); err != nil {
		return err
	}
	var err error
	a.Payload, err = decodeHex("data", hexData)
	return err
}

func readRSTStream(o *Object, a *Action) error {
	return o.Get("rst_stream", &a.Code)
}

func readGoAway(o *Object, a *Action) error {
	if err := o.Get("goaway", &a.Code); err != nil {
		return err
	}
	if err := o.Get("last_stream_id", &a.LastID); err != nil {
		return err
	}
	if a.LastID != nil && *a.LastID >= 1<<31 {
		return fmt.Errorf("%s: last_stream_id is over 2^31-1", o.kind)
	}
	return o.Get("debug", &a.Debug)
}

func readSleep(o *Object, a *Action) error {
	var ms uint32
	if err := o.Get("sleep_ms", &ms); err != nil {
		return err
	}
	a.Sleep = time.Duration(ms) * time.Millisecond
	return nil
}

// decodeHex decodes the hex text of member name (upper- or lowercase, possibly empty).
func decodeHex(name, text string) ([]byte, error) {
	b, err := hex.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%s: not hex: %v", name, err)
	}
	return b, nil
}
