package cases

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"strconv"
	"sync"
	"time"
)

// The netrpc suite (docs/peer-contract.md, "The netrpc suite"): the reference document's Panda
// service of Go's net/rpc (interop/netrpc), called over JSON-RPC 1.0 with net/rpc/jsonrpc's
// client, over gob with net/rpc's HTTP client, and GET /panda with net/http. Every value is an
// exact int64. Every call has the --rpc_timeout_ms deadline, set on its connection.

// getinfoValues are the (arg, arg+1 in Go's int) pairs of the value cases.
var (
	getinfoValues    = []struct{ arg, reply int64 }{{123, 124}, {0, 1}, {-1, 0}, {-124, -123}}
	beyond253Values  = []struct{ arg, reply int64 }{{9007199254740992, 9007199254740993}, {9007199254740993, 9007199254740994}, {-9007199254740995, -9007199254740994}}
	int64EdgesValues = []struct{ arg, reply int64 }{{math.MaxInt64 - 1, math.MaxInt64}, {math.MinInt64, math.MinInt64 + 1}}
	wrapsValues      = []struct{ arg, reply int64 }{{math.MaxInt64, math.MinInt64}}
)

// recordingConn is a connection that keeps every byte it read, so that a case can quote (and check) an
// answer exactly as it came, and whose reads wait while it is held (pipelining: nothing is read
// before every request is written).
type recordingConn struct {
	net.Conn
	mu   sync.Mutex
	read bytes.Buffer
	hold chan struct{} // nil, or closed when reads may go on
}

func (w *recordingConn) Read(p []byte) (int, error) {
	w.mu.Lock()
	hold := w.hold
	w.mu.Unlock()
	if hold != nil {
		<-hold
	}
	n, err := w.Conn.Read(p)
	w.mu.Lock()
	w.read.Write(p[:n])
	w.mu.Unlock()
	return n, err
}

// jsonAnswer is one JSON-RPC 1.0 answer, every member as its JSON text (absent: empty).
type jsonAnswer struct {
	ID, Result, Error json.RawMessage
	text              string
}

// answers parses every complete answer read so far.
func (w *recordingConn) answers() []jsonAnswer {
	w.mu.Lock()
	data := bytes.Clone(w.read.Bytes())
	w.mu.Unlock()
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []jsonAnswer
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return out
		}
		var a struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		json.Unmarshal(raw, &a)
		var compact bytes.Buffer
		json.Compact(&compact, raw)
		out = append(out, jsonAnswer{a.ID, a.Result, a.Error, compact.String()})
	}
}

// idFromOne makes the ids of a connection's requests 1, 2, 3, … (net/rpc numbers its calls
// from 0, and jsonrpc's codec sends that number as the id).
type idFromOne struct{ rpc.ClientCodec }

func (c idFromOne) WriteRequest(r *rpc.Request, param any) error {
	shifted := *r
	shifted.Seq++
	return c.ClientCodec.WriteRequest(&shifted, param)
}

func (c idFromOne) ReadResponseHeader(r *rpc.Response) error {
	err := c.ClientCodec.ReadResponseHeader(r)
	r.Seq--
	return err
}

// jsonRPCSession is one connection with net/rpc/jsonrpc's client on it.
type jsonRPCSession struct {
	t      Target
	wire   *recordingConn
	client *rpc.Client
}

func (t Target) address() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// dialJSONRPC connects to the server (within the RPC deadline) and starts jsonrpc's client on
// the connection; held: its reads wait for release.
func dialJSONRPC(t Target, held bool) (*jsonRPCSession, error) {
	conn, err := net.DialTimeout("tcp", t.address(), t.RPCTimeout)
	if err != nil {
		return nil, fmt.Errorf("JSON-RPC connection to %s: %w", t.address(), err)
	}
	w := &recordingConn{Conn: conn}
	if held {
		w.hold = make(chan struct{})
	}
	conn.SetDeadline(time.Now().Add(t.RPCTimeout))
	return &jsonRPCSession{t, w, rpc.NewClientWithCodec(idFromOne{jsonrpc.NewClientCodec(w)})}, nil
}

// release lets the held reads go on.
func (s *jsonRPCSession) release() {
	s.wire.mu.Lock()
	if s.wire.hold != nil {
		close(s.wire.hold)
		s.wire.hold = nil
	}
	s.wire.mu.Unlock()
}

func (s *jsonRPCSession) Close() { s.release(); s.client.Close() }

// call calls method(param) with a fresh deadline; the answer's text and the call's error.
func (s *jsonRPCSession) call(method string, param any, reply any) (jsonAnswer, error) {
	s.wire.Conn.SetDeadline(time.Now().Add(s.t.RPCTimeout))
	before := len(s.wire.answers())
	err := s.client.Call(method, param, reply)
	all := s.wire.answers()
	if len(all) > before {
		return all[len(all)-1], err
	}
	return jsonAnswer{}, err
}

// jsonLabel is a call as failure messages name it.
func jsonLabel(method string, param string) string {
	return fmt.Sprintf("JSON-RPC %s(%s)", method, param)
}

// jsonGetinfoValues calls Panda.Getinfo with each value on one connection; each must answer
// exactly reply, with error null.
func jsonGetinfoValues(t Target, values []struct{ arg, reply int64 }) error {
	s, err := dialJSONRPC(t, false)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, v := range values {
		label := jsonLabel("Panda.Getinfo", strconv.FormatInt(v.arg, 10))
		var reply int64
		answer, err := s.call("Panda.Getinfo", v.arg, &reply)
		switch {
		case err != nil && answer.text == "":
			return fmt.Errorf("%s: expected result %d and error null, got no answer: %v", label, v.reply, err)
		case err != nil || reply != v.reply || string(answer.Error) != "null":
			return fmt.Errorf("%s: expected result %d and error null, got %s", label, v.reply, answer.text)
		}
	}
	return nil
}

func netrpcJSONRPCGetinfo(t Target) error    { return jsonGetinfoValues(t, getinfoValues) }
func netrpcJSONRPCBeyond253(t Target) error  { return jsonGetinfoValues(t, beyond253Values) }
func netrpcJSONRPCInt64Edges(t Target) error { return jsonGetinfoValues(t, int64EdgesValues) }
func netrpcJSONRPCWraps(t Target) error      { return jsonGetinfoValues(t, wrapsValues) }

// isNull: a JSON member that is null or absent.
func isNull(m json.RawMessage) bool { return len(m) == 0 || string(m) == "null" }

// netrpcJSONRPCNotAnInt: params that are no Go int (2^63, 1.5, "123") are answered with a
// non-empty string error and a null result.
func netrpcJSONRPCNotAnInt(t Target) error {
	s, err := dialJSONRPC(t, false)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, param := range []struct {
		value any
		text  string
	}{{json.Number("9223372036854775808"), "9223372036854775808"}, {1.5, "1.5"}, {"123", `"123"`}} {
		label := jsonLabel("Panda.Getinfo", param.text)
		var reply json.RawMessage
		answer, err := s.call("Panda.Getinfo", param.value, &reply)
		var text string
		if answer.text == "" {
			return fmt.Errorf("%s: expected a non-empty string error and a null result, got no answer: %v", label, err)
		}
		if json.Unmarshal(answer.Error, &text) != nil || text == "" || !isNull(answer.Result) {
			return fmt.Errorf("%s: expected a non-empty string error and a null result, got %s", label, answer.text)
		}
	}
	return nil
}

// netrpcJSONRPCUnknownMethod: net/rpc's own errors (server.go, readRequestHeader).
func netrpcJSONRPCUnknownMethod(t Target) error {
	s, err := dialJSONRPC(t, false)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, c := range []struct{ method, want string }{
		{"Panda.Nope", "rpc: can't find method Panda.Nope"},
		{"Nope.Getinfo", "rpc: can't find service Nope.Getinfo"},
	} {
		label := jsonLabel(c.method, "123")
		var reply json.RawMessage
		answer, err := s.call(c.method, 123, &reply)
		if answer.text == "" {
			return fmt.Errorf("%s: expected error %q and a null result, got no answer: %v", label, c.want, err)
		}
		var text string
		if json.Unmarshal(answer.Error, &text) != nil || text != c.want || !isNull(answer.Result) {
			return fmt.Errorf("%s: expected error %q and a null result, got %s", label, c.want, answer.text)
		}
	}
	return nil
}

// pipelinedArg is the arg of request i (1..16) of netrpc_jsonrpc_pipelined: i*2^40 + i.
func pipelinedArg(i int64) int64 { return i<<40 + i }

// netrpcJSONRPCPipelined: 16 requests on one connection, ids 1..16, all written before any
// answer is read; every answer, matched by its id (net/rpc's client matches them), is arg + 1.
func netrpcJSONRPCPipelined(t Target) error {
	s, err := dialJSONRPC(t, true)
	if err != nil {
		return err
	}
	defer s.Close()
	const n = 16
	replies := make([]int64, n)
	calls := make([]*rpc.Call, n)
	for i := range n {
		calls[i] = s.client.Go("Panda.Getinfo", pipelinedArg(int64(i+1)), &replies[i], make(chan *rpc.Call, 1))
	}
	s.release()
	for i, call := range calls {
		<-call.Done // the connection's deadline ends every call in time
		arg := pipelinedArg(int64(i + 1))
		label := fmt.Sprintf("%s, request id %d of 16 pipelined", jsonLabel("Panda.Getinfo", strconv.FormatInt(arg, 10)), i+1)
		answer, found := s.answerWithID(i + 1)
		switch {
		case !found:
			return fmt.Errorf("%s: expected result %d and error null, got no answer with id %d: %v (answers read: %s)", label, arg+1, i+1, call.Error, s.answersText())
		case call.Error != nil || replies[i] != arg+1 || string(answer.Error) != "null":
			return fmt.Errorf("%s: expected result %d and error null, got %s", label, arg+1, answer.text)
		}
	}
	return nil
}

// answerWithID is the first answer read whose id is the JSON number id.
func (s *jsonRPCSession) answerWithID(id int) (jsonAnswer, bool) {
	for _, a := range s.wire.answers() {
		if string(a.ID) == strconv.Itoa(id) {
			return a, true
		}
	}
	return jsonAnswer{}, false
}

// answersText quotes every answer read.
func (s *jsonRPCSession) answersText() string {
	var b bytes.Buffer
	for i, a := range s.wire.answers() {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(a.text)
	}
	return b.String()
}

// netrpcHTTPPanda: GET /panda answers 200 and exactly "panda".
func netrpcHTTPPanda(t Target) error {
	transport := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	defer transport.CloseIdleConnections()
	client := http.Client{Transport: transport, Timeout: t.RPCTimeout}
	url := "http://" + t.address() + "/panda"
	resp, err := client.Get(url)
	if err != nil {
		return fmt.Errorf("GET %s: expected 200 \"panda\", got %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: expected 200 \"panda\", got status %d and a body that failed: %v", url, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != "panda" {
		return fmt.Errorf("GET %s: expected 200 \"panda\", got %d %q", url, resp.StatusCode, body)
	}
	return nil
}

// dialGob is rpc.DialHTTP (gob over HTTP CONNECT to rpc.DefaultRPCPath) on a connection with
// the RPC deadline: the same handshake as net/rpc's DialHTTPPath, which takes no deadline.
func dialGob(t Target) (*rpc.Client, net.Conn, error) {
	label := "gob rpc.DialHTTP(" + t.address() + ")"
	conn, err := net.DialTimeout("tcp", t.address(), t.RPCTimeout)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", label, err)
	}
	conn.SetDeadline(time.Now().Add(t.RPCTimeout))
	io.WriteString(conn, "CONNECT "+rpc.DefaultRPCPath+" HTTP/1.0\n\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "CONNECT"})
	if err == nil && resp.Status != "200 Connected to Go RPC" {
		err = errors.New("unexpected HTTP response: " + resp.Status)
	}
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("%s: expected \"200 Connected to Go RPC\", got %w", label, err)
	}
	return rpc.NewClient(conn), conn, nil
}

// netrpcGobGetinfo: every value of the JSON-RPC value cases, over gob.
func netrpcGobGetinfo(t Target) error {
	client, conn, err := dialGob(t)
	if err != nil {
		return err
	}
	defer client.Close()
	for _, values := range [][]struct{ arg, reply int64 }{getinfoValues, beyond253Values, int64EdgesValues, wrapsValues} {
		for _, v := range values {
			conn.SetDeadline(time.Now().Add(t.RPCTimeout))
			var reply int64
			err := client.Call("Panda.Getinfo", v.arg, &reply)
			label := fmt.Sprintf("gob Panda.Getinfo(%d)", v.arg)
			if err != nil {
				return fmt.Errorf("%s: expected %d, got error %v", label, v.reply, err)
			}
			if reply != v.reply {
				return fmt.Errorf("%s: expected %d, got %d", label, v.reply, reply)
			}
		}
	}
	return nil
}

// netrpcGobUnknownMethod: net/rpc's own error for a method Panda does not have.
func netrpcGobUnknownMethod(t Target) error {
	client, conn, err := dialGob(t)
	if err != nil {
		return err
	}
	defer client.Close()
	conn.SetDeadline(time.Now().Add(t.RPCTimeout))
	var reply int64
	err = client.Call("Panda.Nope", int64(123), &reply)
	const want = "rpc: can't find method Panda.Nope"
	var serverErr rpc.ServerError
	if !errors.As(err, &serverErr) || string(serverErr) != want {
		got := fmt.Sprintf("reply %d", reply)
		if err != nil {
			got = fmt.Sprintf("error %q", err.Error())
		}
		return fmt.Errorf("gob Panda.Nope(123): expected error %q, got %s", want, got)
	}
	return nil
}
