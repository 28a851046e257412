// Package result writes the client's JSON lines: one per case, or one per measurement of the
// load mode (docs/peer-contract.md, "Client").
package result

import (
	"encoding/json"
	"io"
	"math"
	"time"
)

// Line is one case's outcome: {"case":…,"status":"passed"|"failed","ms":…,"error":…}, with
// "observed" when the case reports what the library gave it, for the runner to judge.
type Line struct {
	Case     string  `json:"case"`
	Status   string  `json:"status"`
	Ms       float64 `json:"ms"`
	Error    string  `json:"error,omitempty"`
	Observed any     `json:"observed,omitempty"`
}

// New describes a case that took elapsed and failed with err, or passed when err is nil;
// observed (a JSON object, or nil for none) is what the case reports for the runner to judge.
func New(name string, elapsed time.Duration, err error, observed any) Line {
	line := Line{Case: name, Status: "passed", Ms: Millis(elapsed), Observed: observed}
	if err != nil {
		line.Status = "failed"
		line.Error = err.Error()
	}
	return line
}

// Write prints line (a Line, or any other JSON object) as one JSON line on w.
func Write(w io.Writer, line any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(line)
}

// Tenths rounds x to one decimal.
func Tenths(x float64) float64 { return math.Round(x*10) / 10 }

// Millis is d in milliseconds, rounded to 0.1.
func Millis(d time.Duration) float64 { return Tenths(float64(d) / float64(time.Millisecond)) }

// Micros is d in microseconds, rounded to 0.1.
func Micros(d time.Duration) float64 { return Tenths(float64(d) / float64(time.Microsecond)) }
