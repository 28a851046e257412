package cases_test

import (
	"fmt"
	"testing"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/servertest"
	"interopmatrix/internal/wiretap"
)

// TestCompressionOnTheWire checks, with a proxy reading the HTTP/2 frames, that the Go client
// and server compress exactly the messages the compression cases ask for: the per-message
// compressed flag, not what either library reports.
func TestCompressionOnTheWire(t *testing.T) {
	for _, c := range []struct {
		name               string
		toServer, toClient string // per call, the compressed flags of its messages
	}{
		// probe uncompressed (no response); compressed; uncompressed. No response is asked to be compressed.
		{"client_compressed_unary", "[[false] [true] [false]]", "[[false] [false]]"},
		{"server_compressed_unary", "[[false] [false]]", "[[true] [false]]"},
		// probe [uncompressed]; then [compressed, uncompressed] on one call, whose response
		// grpc-go compresses as the request was (StreamingInputCall has no response_compressed).
		{"client_compressed_streaming", "[[false] [true false]]", "[[true]]"},
		{"server_compressed_streaming", "[[false]]", "[[true false]]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			port, tap := wiretap.Start(t, servertest.Start(t, nil))
			if err := cases.Run(c.name, target(port)); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(tap.Messages(wiretap.ToServer)); got != c.toServer {
				t.Errorf("requests' compressed flags per call: %s, want %s", got, c.toServer)
			}
			if got := fmt.Sprint(tap.Messages(wiretap.ToClient)); got != c.toClient {
				t.Errorf("responses' compressed flags per call: %s, want %s", got, c.toClient)
			}
		})
	}
}
