package main

import (
	"io"
	"math"
	"net/http"
)

// The faults of the self-test (docs/peer-contract.md, "The netrpc suite"): each breaks exactly
// one observable.
const (
	faultReplyPlusTwo    = "reply-plus-two"    // Getinfo answers arg + 2 (gob and JSON-RPC alike)
	faultReplyFloat64    = "reply-float64"     // Getinfo computes in float64: int(float64(arg) + 1), wrong beyond 2^53 (float64Plus1)
	faultReplySaturate   = "reply-saturate"    // Getinfo(MaxInt64) answers MaxInt64 instead of wrapping
	faultPandaText       = "panda-text"        // GET /panda answers "Panda"
	faultUnknownMethodOK = "unknown-method-ok" // JSON-RPC: any method name is served as Panda.Getinfo (codec.go); gob: Panda.Nope is (pandaNope)
	faultIDsSwapped      = "ids-swapped"       // JSON-RPC: answers k and k^1 of a connection carry each other's ids (codec.go)
	faultParamsCoerced   = "params-coerced"    // JSON-RPC: params that are no Go int are coerced into one (coerce.go)
)

type faultSet map[string]bool

// faults is the process's --fault set, set once before serving.
var faults faultSet

// The reference document's service, as written: Getinfo answers 1 + argType in Go's int, so
// math.MaxInt64 wraps to math.MinInt64 and net/rpc reports no error.
type Panda int

func (this *Panda) Getinfo(argType int, replyType *int) error {
	*replyType = 1 + argType
	switch {
	case faults[faultReplyPlusTwo]:
		*replyType = argType + 2
	case faults[faultReplyFloat64]:
		*replyType = float64Plus1(argType)
	case faults[faultReplySaturate] && argType == math.MaxInt64:
		*replyType = math.MaxInt64
	}
	return nil
}

// float64Plus1 is int(float64(arg) + 1), what an implementation that holds JSON numbers in
// doubles answers: exact up to 2^53, rounded beyond. Go leaves the conversion of a float64 at or
// beyond 2^63 to int to the platform (amd64 gives math.MinInt64, arm64 math.MaxInt64); this
// fault gives math.MinInt64 on every platform, as amd64 does.
func float64Plus1(arg int) int {
	f := float64(arg) + 1
	if f >= math.MaxInt64 { // float64(math.MaxInt64) is 2^63
		return math.MinInt64
	}
	return int(f)
}

// pandaNope is the service registered as "Panda" under unknown-method-ok: the reference's Panda
// (its Getinfo) and a method Nope that answers as Getinfo, so that gob's Panda.Nope succeeds.
type pandaNope struct{ Panda }

func (p *pandaNope) Nope(argType int, replyType *int) error { return p.Getinfo(argType, replyType) }

// pandatext is the reference document's /panda handler.
func pandatext(w http.ResponseWriter, r *http.Request) {
	if faults[faultPandaText] {
		io.WriteString(w, "Panda")
		return
	}
	io.WriteString(w, "panda")
}
