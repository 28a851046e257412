package server

import (
	"encoding/json"
	"fmt"
	"io"
)

// listening is the one line a server prints on stdout once every worker is ready.
type listening struct {
	Event string `json:"event"`
	Port  int    `json:"port"`
}

// announce prints {"event":"listening","port":P} on w.
func announce(w io.Writer, port int) error {
	return json.NewEncoder(w).Encode(listening{Event: "listening", Port: port})
}

// parseListening reads the port from a line printed by announce.
func parseListening(line string) (int, error) {
	var l listening
	if err := json.Unmarshal([]byte(line), &l); err != nil || l.Event != "listening" {
		return 0, fmt.Errorf("expected a listening line, got %q", line)
	}
	return l.Port, nil
}
