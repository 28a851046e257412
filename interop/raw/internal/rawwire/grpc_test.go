package rawwire

import (
	"encoding/hex"
	"testing"
)

func TestLengthPrefixed(t *testing.T) {
	for _, c := range []struct {
		msg        []byte
		compressed bool
		length     uint32
		want       string
	}{
		{nil, false, 0, "0000000000"},
		{[]byte{0xab}, false, 1, "0000000001ab"},
		{[]byte{0xab, 0xcd}, true, 0x01020304, "0101020304abcd"}, // a lying length
	} {
		if got := hex.EncodeToString(LengthPrefixed(c.msg, c.compressed, c.length)); got != c.want {
			t.Errorf("LengthPrefixed(%x, %v, %d) = %s, want %s", c.msg, c.compressed, c.length, got, c.want)
		}
	}
}

func TestRequestHeaders(t *testing.T) {
	got := RequestHeaders("https", "/a.B/C", "h:1")
	want := [][2]string{{":method", "POST"}, {":scheme", "https"}, {":path", "/a.B/C"}, {":authority", "h:1"},
		{"content-type", "application/grpc"}, {"te", "trailers"}}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i, f := range got {
		if f.Name != want[i][0] || f.Value != want[i][1] {
			t.Errorf("field %d: %v, want %v", i, f, want[i])
		}
	}
}
