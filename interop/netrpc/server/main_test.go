package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests run the program as a process: the test binary runs main's code when serverEnv is
// set (TestMain), so no separate build is needed. Every wait is bounded.

const serverEnv = "INTEROPNETRPC_TEST_RUN_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) != "" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const wait = 5 * time.Second

// lockedBuffer collects a process's stderr.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type process struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	stdout *bufio.Reader
	exited chan struct{}
}

func command(args ...string) (*exec.Cmd, *lockedBuffer) {
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), serverEnv+"=1")
	cmd.Stdin = nil
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	return cmd, stderr
}

// start starts the server with these flags and returns it with the port of its listening line;
// the test's cleanup stops it (SIGTERM, then SIGKILL).
func start(t *testing.T, args ...string) (*process, int) {
	t.Helper()
	cmd, stderr := command(args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stderr: stderr, stdout: bufio.NewReader(out), exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.stop(t, syscall.SIGTERM) })
	line := make(chan string, 1)
	go func() { l, _ := p.stdout.ReadString('\n'); line <- l }()
	select {
	case l := <-line:
		var got struct {
			Event string `json:"event"`
			Port  int    `json:"port"`
		}
		if err := json.Unmarshal([]byte(l), &got); err != nil || got.Event != "listening" || got.Port == 0 {
			t.Fatalf("listening line %q (%v); stderr %q", l, err, stderr.String())
		}
		if want := fmt.Sprintf("{\"event\":\"listening\",\"port\":%d}\n", got.Port); l != want {
			t.Fatalf("listening line %q, want %q", l, want)
		}
		return p, got.Port
	case <-time.After(wait):
		t.Fatalf("no listening line within %v; stderr %q", wait, stderr.String())
	}
	return nil, 0
}

// stop signals the process and returns its exit code (-1 when it had to be killed).
func (p *process) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Signal(sig)
		select {
		case <-p.exited:
		case <-time.After(wait):
			p.cmd.Process.Kill()
			<-p.exited
			t.Errorf("the server did not exit within %v of %v", wait, sig)
			return -1
		}
	}
	return p.cmd.ProcessState.ExitCode()
}

func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// exitOf runs the server with these flags (it must end by itself) and returns its exit code and
// stderr.
func exitOf(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd, stderr := command(args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		cmd.Process.Kill()
		<-done
		t.Fatalf("server %q did not exit within %v", args, wait)
	}
	if stdout.Len() != 0 {
		t.Errorf("server %q printed %q on stdout", args, stdout.String())
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

func TestBadFlagsExit2WithOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--port=0", "--use_tls=true"}, "netrpc: TLS is not part of net/rpc"},
		{[]string{"--port=0", "--no_such_flag=1"}, "netrpc: flag provided but not defined: -no_such_flag"},
		{[]string{"--port=0", "--fault=no-such-fault"}, `netrpc: --fault: unknown fault "no-such-fault"`},
		{[]string{"--port=0", "--fault=reply-plus-two,"}, `netrpc: --fault: unknown fault ""`},
		{[]string{}, "netrpc: --port is required"},
		{[]string{"--port=x"}, "netrpc: --port=x: not a port number"},
		{[]string{"--port=0", "extra"}, `netrpc: unexpected argument "extra"`},
	} {
		code, stderr := exitOf(t, tc.args...)
		if code != 2 || !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line starting %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestSignalsStopItWithExit0(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		p, port := start(t, "--port=0", "--use_tls=false")
		if got := getinfoJSON(t, port, 1); got != 2 {
			t.Fatalf("Getinfo(1) = %d", got)
		}
		if code := p.stop(t, sig); code != 0 {
			t.Errorf("%v: exit code %d, want 0; stderr %q", sig, code, p.stderr.String())
		}
		if conn, err := net.DialTimeout("tcp", addr(port), time.Second); err == nil {
			conn.Close()
			t.Errorf("%v: the port still accepts connections", sig)
		}
	}
}

func TestGivenPortIsUsedOnLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, got := start(t, fmt.Sprintf("--port=%d", port))
	if got != port {
		t.Fatalf("listening on %d, want %d", got, port)
	}
	if got := getinfoJSON(t, port, 41); got != 42 {
		t.Errorf("Getinfo(41) = %d", got)
	}
}

// The values of the cases, as the reference's 1 + argType computes them in Go's int.
var values = []struct{ arg, reply int64 }{
	{123, 124}, {0, 1}, {-1, 0}, {-124, -123},
	{9007199254740992, 9007199254740993}, {9007199254740993, 9007199254740994}, {-9007199254740995, -9007199254740994},
	{math.MaxInt64 - 1, math.MaxInt64}, {math.MinInt64, math.MinInt64 + 1},
	{math.MaxInt64, math.MinInt64},
}

// gobCalls calls Panda.Getinfo with each value over rpc.DialHTTP (gob over HTTP CONNECT).
func gobCalls(t *testing.T, port int) map[int64]int64 {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr(port), wait)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(wait))
	// rpc.DialHTTP's own handshake, on a connection with a deadline.
	io.WriteString(conn, "CONNECT "+rpc.DefaultRPCPath+" HTTP/1.0\n\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "CONNECT"})
	if err != nil || resp.Status != "200 Connected to Go RPC" {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	client := rpc.NewClient(conn)
	defer client.Close()
	got := map[int64]int64{}
	for _, v := range values {
		var reply int
		if err := client.Call("Panda.Getinfo", int(v.arg), &reply); err != nil {
			t.Fatalf("gob Panda.Getinfo(%d): %v", v.arg, err)
		}
		got[v.arg] = int64(reply)
	}
	return got
}

// jsonCalls calls Panda.Getinfo with each value through net/rpc/jsonrpc's client.
func jsonCalls(t *testing.T, port int) map[int64]int64 {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr(port), wait)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(wait))
	client := jsonrpc.NewClient(conn)
	defer client.Close()
	got := map[int64]int64{}
	for _, v := range values {
		var reply int64
		if err := client.Call("Panda.Getinfo", v.arg, &reply); err != nil {
			t.Fatalf("jsonrpc Panda.Getinfo(%d): %v", v.arg, err)
		}
		got[v.arg] = reply
	}
	return got
}

func TestCorrectServerAnswersOverGobAndJSONRPC(t *testing.T) {
	_, port := start(t, "--port=0")
	// The reference document's own client: rpc.DialHTTP and Call("Panda.Getinfo", 123, &val).
	cli, err := rpc.DialHTTP("tcp", addr(port))
	if err != nil {
		t.Fatal(err)
	}
	var val int
	err = cli.Call("Panda.Getinfo", 123, &val)
	cli.Close()
	if err != nil || val != 124 {
		t.Fatalf("the reference client: %d, %v", val, err)
	}
	gob, js := gobCalls(t, port), jsonCalls(t, port)
	for _, v := range values {
		if gob[v.arg] != v.reply || js[v.arg] != v.reply {
			t.Errorf("Getinfo(%d): gob %d, JSON-RPC %d; want %d", v.arg, gob[v.arg], js[v.arg], v.reply)
		}
	}
}

// rawAnswer is a JSON-RPC answer as it came, numbers exact.
type rawAnswer struct {
	ID     json.Number `json:"id"`
	Result any         `json:"result"`
	Error  any         `json:"error"`
}

// rawJSONRPC writes requests (raw JSON text, all at once) on one connection and reads n answers.
func rawJSONRPC(t *testing.T, port int, requests string, n int) []rawAnswer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr(port), wait)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(conn, requests); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(conn)
	dec.UseNumber()
	var answers []rawAnswer
	for range n {
		var a rawAnswer
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("after %d answers to %q: %v", len(answers), requests, err)
		}
		answers = append(answers, a)
	}
	return answers
}

func getinfoJSON(t *testing.T, port int, arg int64) int64 {
	t.Helper()
	a := rawJSONRPC(t, port, fmt.Sprintf(`{"method":"Panda.Getinfo","params":[%d],"id":1}`, arg), 1)[0]
	n, ok := a.Result.(json.Number)
	if !ok || a.Error != nil {
		t.Fatalf("Getinfo(%d): %+v", arg, a)
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRawJSONRPC(t *testing.T) {
	_, port := start(t, "--port=0")
	t.Run("answer shape", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", addr(port), wait)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(wait))
		io.WriteString(conn, `{"method":"Panda.Getinfo","params":[9007199254740993],"id":7}`)
		line, err := bufio.NewReader(conn).ReadString('\n')
		if want := `{"id":7,"result":9007199254740994,"error":null}` + "\n"; err != nil || line != want {
			t.Errorf("answer %q (%v), want %q", line, err, want)
		}
	})
	t.Run("whitespace first", func(t *testing.T) {
		a := rawJSONRPC(t, port, " \r\n\t{\"method\":\"Panda.Getinfo\",\"params\":[-124],\"id\":9}", 1)[0]
		if a.Result != json.Number("-123") || a.Error != nil {
			t.Errorf("answer %+v", a)
		}
	})
	t.Run("not an int", func(t *testing.T) {
		for _, param := range []string{"9223372036854775808", "1.5", `"123"`, "-9223372036854775809"} {
			a := rawJSONRPC(t, port, `{"method":"Panda.Getinfo","params":[`+param+`],"id":3}`, 1)[0]
			text, ok := a.Error.(string)
			if !ok || text == "" || a.Result != nil || a.ID != "3" {
				t.Errorf("params [%s]: answer %+v, want a non-empty error and a null result", param, a)
			}
			t.Logf("params [%s]: error %q", param, text)
		}
	})
	t.Run("unknown method and service", func(t *testing.T) {
		answers := rawJSONRPC(t, port, `{"method":"Panda.Nope","params":[1],"id":1}{"method":"Nope.Getinfo","params":[1],"id":2}`, 2)
		want := map[json.Number]string{"1": "rpc: can't find method Panda.Nope", "2": "rpc: can't find service Nope.Getinfo"}
		for _, a := range answers {
			if a.Error != want[a.ID] || a.Result != nil {
				t.Errorf("answer %+v, want error %q", a, want[a.ID])
			}
		}
	})
	t.Run("pipelined", func(t *testing.T) {
		answers := rawJSONRPC(t, port, pipelined(), 16)
		checkPipelined(t, answers, true)
	})
}

// pipelined is the 16 requests of netrpc_jsonrpc_pipelined: ids 1..16, args i*2^40+i.
func pipelined() string {
	var b strings.Builder
	for i := int64(1); i <= 16; i++ {
		fmt.Fprintf(&b, `{"method":"Panda.Getinfo","params":[%d],"id":%d}`, i<<40+i, i)
	}
	return b.String()
}

// checkPipelined: each answer's result is its id's arg + 1 (want true), or some is not.
func checkPipelined(t *testing.T, answers []rawAnswer, want bool) {
	t.Helper()
	seen := map[int64]bool{}
	right := true
	for _, a := range answers {
		id, err := a.ID.Int64()
		if err != nil || id < 1 || id > 16 || seen[id] {
			t.Fatalf("answer %+v", a)
		}
		seen[id] = true
		if a.Result != json.Number(fmt.Sprint(id<<40+id+1)) || a.Error != nil {
			right = false
		}
	}
	if right != want {
		t.Errorf("every answer right: %v, want %v (answers %+v)", right, want, answers)
	}
}

func httpGet(t *testing.T, port int, path string) (int, string) {
	t.Helper()
	client := http.Client{Timeout: wait}
	resp, err := client.Get("http://" + addr(port) + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestHTTP(t *testing.T) {
	_, port := start(t, "--port=0")
	if code, body := httpGet(t, port, "/panda"); code != 200 || body != "panda" {
		t.Errorf("GET /panda: %d %q", code, body)
	}
	if code, _ := httpGet(t, port, "/debug/rpc"); code != 200 {
		t.Errorf("GET /debug/rpc: %d", code)
	}
	if code, body := httpGet(t, port, rpc.DefaultRPCPath); code != 405 || body != "405 must CONNECT\n" {
		t.Errorf("GET %s: %d %q", rpc.DefaultRPCPath, code, body)
	}
	// A connection that sends nothing holds up no other.
	idle, err := net.DialTimeout("tcp", addr(port), wait)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if code, body := httpGet(t, port, "/panda"); code != 200 || body != "panda" {
		t.Errorf("GET /panda beside an idle connection: %d %q", code, body)
	}
}

func TestEachFaultBreaksItsObservable(t *testing.T) {
	t.Run("reply-plus-two", func(t *testing.T) {
		_, port := start(t, "--port=0", "--fault=reply-plus-two")
		gob, js := gobCalls(t, port), jsonCalls(t, port)
		for _, v := range values {
			want := v.arg + 2
			if gob[v.arg] != want || js[v.arg] != want {
				t.Errorf("Getinfo(%d): gob %d, JSON-RPC %d; want %d", v.arg, gob[v.arg], js[v.arg], want)
			}
		}
	})
	t.Run("reply-float64", func(t *testing.T) {
		_, port := start(t, "--port=0", "--fault=reply-float64")
		js := jsonCalls(t, port)
		for _, v := range values[:4] {
			if js[v.arg] != v.reply {
				t.Errorf("Getinfo(%d) = %d, want %d (exact below 2^53)", v.arg, js[v.arg], v.reply)
			}
		}
		if js[9007199254740992] != 9007199254740992 || js[9007199254740993] != 9007199254740992 {
			t.Errorf("beyond 2^53: %d, %d; want the float64 roundings", js[9007199254740992], js[9007199254740993])
		}
	})
	t.Run("reply-saturate", func(t *testing.T) {
		_, port := start(t, "--port=0", "--fault=reply-saturate")
		gob, js := gobCalls(t, port), jsonCalls(t, port)
		for _, v := range values {
			want := v.reply
			if v.arg == math.MaxInt64 {
				want = math.MaxInt64
			}
			if gob[v.arg] != want || js[v.arg] != want {
				t.Errorf("Getinfo(%d): gob %d, JSON-RPC %d; want %d", v.arg, gob[v.arg], js[v.arg], want)
			}
		}
	})
	t.Run("panda-text", func(t *testing.T) {
		_, port := start(t, "--port=0", "--fault=panda-text")
		if code, body := httpGet(t, port, "/panda"); code != 200 || body != "Panda" {
			t.Errorf("GET /panda: %d %q", code, body)
		}
		if got := getinfoJSON(t, port, 123); got != 124 {
			t.Errorf("Getinfo(123) = %d", got)
		}
	})
	t.Run("unknown-method-ok", func(t *testing.T) {
		_, port := start(t, "--port=0", "--fault=unknown-method-ok")
		answers := rawJSONRPC(t, port, `{"method":"Panda.Nope","params":[1],"id":1}{"method":"Nope.Getinfo","params":[5],"id":2}`, 2)
		for _, a := range answers {
			want := map[json.Number]json.Number{"1": "2", "2": "6"}[a.ID]
			if a.Result != want || a.Error != nil {
				t.Errorf("answer %+v, want result %s and no error", a, want)
			}
		}
		// gob: Panda.Nope is answered as Getinfo too; Getinfo is still the reference's.
		cli, err := rpc.DialHTTP("tcp", addr(port))
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		var reply int
		if err := cli.Call("Panda.Nope", 1, &reply); err != nil || reply != 2 {
			t.Errorf("gob Panda.Nope(1): %d, %v", reply, err)
		}
		if err := cli.Call("Panda.Getinfo", math.MaxInt64, &reply); err != nil || reply != math.MinInt64 {
			t.Errorf("gob Panda.Getinfo(MaxInt64): %d, %v", reply, err)
		}
		if err := cli.Call("Nope.Getinfo", 1, &reply); err == nil || err.Error() != "rpc: can't find service Nope.Getinfo" {
			t.Errorf("gob Nope.Getinfo: %v", err)
		}
	})
	t.Run("params-coerced", func(t *testing.T) {
		_, port := start(t, "--port=0", "--fault=params-coerced")
		for param, want := range map[string]string{
			"9223372036854775808":  "-9223372036854775808", // saturated to 2^63-1, then the wrap
			"-9223372036854775809": "-9223372036854775807",
			"1.5":                  "2",
			"-1.5":                 "0",
			`"123"`:                "124",
			`" -7 "`:               "-6",
			"1e300":                "-9223372036854775808",
			"123":                  "124",
			"9007199254740993":     "9007199254740994",
		} {
			a := rawJSONRPC(t, port, `{"method":"Panda.Getinfo","params":[`+param+`],"id":5}`, 1)[0]
			if a.Result != json.Number(want) || a.Error != nil || a.ID != "5" {
				t.Errorf("params [%s]: answer %+v, want result %s", param, a, want)
			}
		}
		for _, param := range []string{`"abc"`, "true", "{}", "[1]"} {
			a := rawJSONRPC(t, port, `{"method":"Panda.Getinfo","params":[`+param+`],"id":6}`, 1)[0]
			if text, ok := a.Error.(string); !ok || text == "" || a.Result != nil {
				t.Errorf("params [%s]: answer %+v, want an error", param, a)
			}
		}
		answers := rawJSONRPC(t, port, `{"method":"Panda.Nope","params":[1],"id":1}{"method":"Panda.Getinfo","params":[1]}`, 2)
		if answers[0].Error != "rpc: can't find method Panda.Nope" || answers[1].ID != "" || answers[1].Result != json.Number("2") {
			t.Errorf("answers %+v", answers)
		}
		if js := jsonCalls(t, port); js[math.MaxInt64] != math.MinInt64 || js[-124] != -123 {
			t.Errorf("jsonrpc client: %v", js)
		}
		conn, err := net.DialTimeout("tcp", addr(port), wait)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(wait))
		io.WriteString(conn, `{"method":"Panda.Getinfo","params":[1.5],"id":7}`)
		line, err := bufio.NewReader(conn).ReadString('\n')
		if want := `{"id":7,"result":2,"error":null}` + "\n"; err != nil || line != want {
			t.Errorf("answer %q (%v), want %q", line, err, want)
		}
	})
	t.Run("ids-swapped", func(t *testing.T) {
		_, port := start(t, "--port=0", "--fault=ids-swapped")
		answers := rawJSONRPC(t, port, pipelined(), 16)
		checkPipelined(t, answers, false)
		// Each answer carries the id of its pair's other request.
		for _, a := range answers {
			id, _ := a.ID.Int64()
			arg := ((id - 1) ^ 1 + 1) // the other request of the pair (ids 1-2, 3-4, …)
			if a.Result != json.Number(fmt.Sprint(arg<<40+arg+1)) {
				t.Errorf("answer %+v, want the answer to id %d", a, arg)
			}
		}
		// A client that waits for each answer gets its own ids.
		if js := jsonCalls(t, port); js[123] != 124 || js[0] != 1 {
			t.Errorf("sequential calls: %v", js)
		}
	})
	t.Run("several at once", func(t *testing.T) {
		_, port := start(t, "--port=0", "--fault=panda-text,reply-plus-two")
		if _, body := httpGet(t, port, "/panda"); body != "Panda" {
			t.Errorf("GET /panda: %q", body)
		}
		if got := getinfoJSON(t, port, 1); got != 3 {
			t.Errorf("Getinfo(1) = %d", got)
		}
	})
}

func TestFloat64Plus1IsTheSameOnEveryPlatform(t *testing.T) {
	for _, v := range []struct{ arg, want int }{
		{123, 124}, {-124, -123}, {1 << 53, 1 << 53}, {1<<53 + 1, 1 << 53}, {-(1<<53 + 3), -(1<<53 + 4)},
		{math.MaxInt64 - 1, math.MinInt64}, {math.MaxInt64, math.MinInt64}, {math.MinInt64, math.MinInt64},
	} {
		if got := float64Plus1(v.arg); got != v.want {
			t.Errorf("float64Plus1(%d) = %d, want %d", v.arg, got, v.want)
		}
	}
}
