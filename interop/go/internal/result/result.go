// Package result writes the client's per-case JSON lines (docs/peer-contract.md, "Client").
package result

import (
	"encoding/json"
	"io"
	"math"
	"time"
)

// Line is one case's outcome: {"case":…,"status":"passed"|"failed","ms":…,"error":…}.
type Line struct {
	Case   string  `json:"case"`
	Status string  `json:"status"`
	Ms     float64 `json:"ms"`
	Error  string  `json:"error,omitempty"`
}

// New describes a case that took elapsed and failed with err, or passed when err is nil.
func New(name string, elapsed time.Duration, err error) Line {
	line := Line{Case: name, Status: "passed", Ms: math.Round(elapsed.Seconds()*10000) / 10}
	if err != nil {
		line.Status = "failed"
		line.Error = err.Error()
	}
	return line
}

// Write prints l as one JSON line on w.
func Write(w io.Writer, l Line) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(l)
}
