package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/rpc"
	"strconv"
	"strings"
	"sync"
)

// coercingCodec is the JSON-RPC 1.0 server codec of the params-coerced fault: it reads requests
// and writes answers exactly as net/rpc/jsonrpc's server codec does (jsonrpc/server.go: the same
// request and answer shapes, ids echoed as they came, a missing id answered with null), but a
// param that is no Go int is coerced into one, as a loosely typed server would, instead of being
// refused: a number is truncated toward zero (1.5 → 1) and saturates beyond the int64 range
// (2^63 → 2^63−1), a string holding a number is that number ("123" → 123). Its own codec because
// jsonrpc's keeps the raw params to itself.
type coercingCodec struct {
	dec    *json.Decoder
	enc    *json.Encoder
	closer io.Closer

	params *json.RawMessage // of the request just read

	mu      sync.Mutex
	seq     uint64
	pending map[uint64]*json.RawMessage
}

func newCoercingCodec(conn io.ReadWriteCloser) rpc.ServerCodec {
	return &coercingCodec{dec: json.NewDecoder(conn), enc: json.NewEncoder(conn), closer: conn, pending: map[uint64]*json.RawMessage{}}
}

func (c *coercingCodec) ReadRequestHeader(r *rpc.Request) error {
	var req struct {
		Method string           `json:"method"`
		Params *json.RawMessage `json:"params"`
		ID     *json.RawMessage `json:"id"`
	}
	if err := c.dec.Decode(&req); err != nil {
		return err
	}
	r.ServiceMethod = req.Method
	c.params = req.Params
	c.mu.Lock()
	c.seq++
	c.pending[c.seq] = req.ID
	r.Seq = c.seq
	c.mu.Unlock()
	return nil
}

func (c *coercingCodec) ReadRequestBody(x any) error {
	if x == nil {
		return nil
	}
	if c.params == nil {
		return errors.New("jsonrpc: request body missing params")
	}
	params := [1]any{x}
	err := json.Unmarshal(*c.params, &params)
	if arg, ok := x.(*int); ok && err != nil {
		if v, ok := coerce(*c.params); ok {
			*arg = v
			return nil
		}
	}
	return err
}

// coerce reads the one param of params as an int the loose way; false when it cannot.
func coerce(params json.RawMessage) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	var list []any
	if dec.Decode(&list) != nil || len(list) != 1 {
		return 0, false
	}
	var text string
	switch v := list[0].(type) {
	case json.Number:
		text = string(v)
	case string:
		text = strings.TrimSpace(v)
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return int(n), true
	}
	f, err := strconv.ParseFloat(text, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(f):
		return 0, false
	case f >= math.MaxInt64: // float64(math.MaxInt64) is 2^63
		return math.MaxInt64, true
	case f <= math.MinInt64:
		return math.MinInt64, true
	}
	return int(f), true
}

func (c *coercingCodec) WriteResponse(r *rpc.Response, x any) error {
	c.mu.Lock()
	id, ok := c.pending[r.Seq]
	if !ok {
		c.mu.Unlock()
		return errors.New("invalid sequence number in response")
	}
	delete(c.pending, r.Seq)
	c.mu.Unlock()
	if id == nil {
		null := json.RawMessage("null")
		id = &null
	}
	resp := struct {
		ID     *json.RawMessage `json:"id"`
		Result any              `json:"result"`
		Error  any              `json:"error"`
	}{ID: id}
	if r.Error == "" {
		resp.Result = x
	} else {
		resp.Error = r.Error
	}
	return c.enc.Encode(resp)
}

func (c *coercingCodec) Close() error { return c.closer.Close() }
