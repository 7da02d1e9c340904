package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// run feeds input to one session and returns everything it answered.
func run(t *testing.T, s *Store, input string) string {
	t.Helper()
	var out strings.Builder
	if err := newSession(s, strings.NewReader(input), &out, 1).serve(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func newTestStore() (*Store, *clock) {
	c := &clock{time.Unix(1_700_000_000, 0)}
	return NewStore(1<<20, 1024, c.now), c
}

func TestProtocol(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"set get", "set a 5 0 3\r\nabc\r\nget a b\r\n", "STORED\r\nVALUE a 5 3\r\nabc\r\nEND\r\n"},
		{"add replace", "add a 0 0 1\r\nx\r\nadd a 0 0 1\r\ny\r\nreplace b 0 0 1\r\nz\r\nget a\r\n",
			"STORED\r\nNOT_STORED\r\nNOT_STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n"},
		{"append prepend", "set a 7 0 2\r\nbc\r\nappend a 0 0 1\r\nd\r\nprepend a 0 0 1\r\na\r\nappend zz 0 0 1\r\nq\r\nget a\r\n",
			"STORED\r\nSTORED\r\nSTORED\r\nNOT_STORED\r\nVALUE a 7 4\r\nabcd\r\nEND\r\n"},
		{"cas", "set a 0 0 1\r\nx\r\ngets a\r\ncas a 0 0 1 1\r\ny\r\ncas a 0 0 1 1\r\nz\r\ncas b 0 0 1 1\r\nq\r\nget a\r\n",
			"STORED\r\nVALUE a 0 1 1\r\nx\r\nEND\r\nSTORED\r\nEXISTS\r\nNOT_FOUND\r\nVALUE a 0 1\r\ny\r\nEND\r\n"},
		{"delete", "set a 0 0 1\r\nx\r\ndelete a\r\ndelete a\r\ndelete a 5\r\n",
			"STORED\r\nDELETED\r\nNOT_FOUND\r\nCLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"},
		{"incr decr", "set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\nincr x 1\r\nset s 0 0 1\r\na\r\nincr s 1\r\nincr n abc\r\nincr n 18446744073709551615\r\n",
			"STORED\r\n15\r\n0\r\nNOT_FOUND\r\nSTORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nCLIENT_ERROR invalid numeric delta argument\r\n18446744073709551615\r\n"},
		{"decr pads like memcached", "set n 0 0 2\r\n10\r\ndecr n 1\r\nget n\r\n", "STORED\r\n9\r\nVALUE n 0 2\r\n9 \r\nEND\r\n"},
		{"incr wraps", "set n 0 0 1\r\n2\r\nincr n 18446744073709551615\r\n", "STORED\r\n1\r\n"},
		{"noreply", "set a 0 0 1 noreply\r\nx\r\nadd a 0 0 1 noreply\r\ny\r\ndelete b noreply\r\nincr a 1 noreply\r\nget a\r\n",
			"VALUE a 0 1\r\nx\r\nEND\r\n"},
		{"errors keep the session", "bogus\r\n\r\nset a 0 0 x\r\nget\r\nset a 0 0 1\r\nxyz\r\nget " + strings.Repeat("k", 251) + "\r\nversion\r\n",
			"ERROR\r\nERROR\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\nCLIENT_ERROR bad command line format\r\nVERSION " + Version + "\r\n"},
		{"too large swallows data", "set a 0 0 2000\r\n" + strings.Repeat("x", 2000) + "\r\nget a\r\n",
			"SERVER_ERROR object too large for cache\r\nEND\r\n"},
		{"quit", "version\r\nquit\r\nversion\r\n", "VERSION " + Version + "\r\n"},
		{"flush", "set a 0 0 1\r\nx\r\nflush_all\r\nget a\r\nflush_all noreply\r\n", "STORED\r\nOK\r\nEND\r\n"},
		{"touch", "set a 0 0 1\r\nx\r\ntouch a 10\r\ntouch b 10\r\n", "STORED\r\nTOUCHED\r\nNOT_FOUND\r\n"},
		{"bare newlines", "set a 0 0 1\nx\r\nget a\n", "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n"},
	}
	for _, c := range cases {
		s, _ := newTestStore()
		if got := run(t, s, c.in); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestExpiry(t *testing.T) {
	s, c := newTestStore()
	run(t, s, "set a 0 10 1\r\nx\r\nset b 0 -1 1\r\ny\r\nset c 0 0 1\r\nz\r\n")
	if got := run(t, s, "get a b c\r\n"); got != "VALUE a 0 1\r\nx\r\nVALUE c 0 1\r\nz\r\nEND\r\n" {
		t.Fatalf("before: %q", got)
	}
	c.t = c.t.Add(10 * time.Second)
	if got := run(t, s, "get a c\r\n"); got != "VALUE c 0 1\r\nz\r\nEND\r\n" {
		t.Fatalf("after: %q", got)
	}
	abs := c.t.Unix() + 100
	run(t, s, "set d 0 "+itoa(abs)+" 1\r\nw\r\nflush_all 50\r\n")
	if got := run(t, s, "get d\r\n"); got != "VALUE d 0 1\r\nw\r\nEND\r\n" {
		t.Fatalf("absolute exptime: %q", got)
	}
	c.t = c.t.Add(50 * time.Second)
	if got := run(t, s, "get c d\r\n"); got != "END\r\n" {
		t.Fatalf("delayed flush: %q", got)
	}
	run(t, s, "set e 0 0 1\r\nv\r\n")
	if got := run(t, s, "get e\r\n"); got != "VALUE e 0 1\r\nv\r\nEND\r\n" {
		t.Fatalf("after delayed flush: %q", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestLRUEviction(t *testing.T) {
	c := &clock{time.Unix(1_700_000_000, 0)}
	s := NewStore(4*(itemOverhead+1+100), 1024, c.now) // room for four 100-byte items
	v := strings.Repeat("v", 100)
	for _, k := range []string{"a", "b", "c", "d"} {
		run(t, s, "set "+k+" 0 0 100\r\n"+v+"\r\n")
	}
	run(t, s, "get a\r\n") // a is now the most recently used: b goes first
	run(t, s, "set e 0 0 100\r\n"+v+"\r\n")
	got := run(t, s, "get a b c d e\r\n")
	if strings.Contains(got, "VALUE b ") || !strings.Contains(got, "VALUE a ") || !strings.Contains(got, "VALUE e ") {
		t.Fatalf("eviction order: %q", got)
	}
	stats := run(t, s, "stats\r\n")
	for _, want := range []string{"STAT evictions 1\r\n", "STAT curr_items 4\r\n", fmt.Sprintf("STAT limit_maxbytes %d\r\n", 4*(itemOverhead+1+100)), "STAT get_hits 5\r\n"} {
		if !strings.Contains(stats, want) {
			t.Errorf("stats lack %q:\n%s", want, stats)
		}
	}
	if !strings.HasSuffix(stats, "END\r\n") {
		t.Errorf("stats end: %q", stats)
	}
}

func TestUDPFraming(t *testing.T) {
	s := &Server{Store: NewStore(1<<20, 1<<20, nil)}
	big := strings.Repeat("x", 5000)
	req := make([]byte, 8, 64)
	binary.BigEndian.PutUint16(req, 0x1234)
	binary.BigEndian.PutUint16(req[4:], 1)
	set := append(append([]byte{}, req...), "set k 0 0 5000 noreply\r\n"+big+"\r\n"...)
	if out := s.HandleUDP(set); out != nil {
		t.Fatalf("noreply set answered %d datagrams", len(out))
	}
	out := s.HandleUDP(append(append([]byte{}, req...), "get k\r\n"...))
	var all []byte
	for i, d := range out {
		if len(d) > 1400 || binary.BigEndian.Uint16(d) != 0x1234 || int(binary.BigEndian.Uint16(d[2:])) != i ||
			int(binary.BigEndian.Uint16(d[4:])) != len(out) {
			t.Fatalf("datagram %d header % x (len %d)", i, d[:8], len(d))
		}
		all = append(all, d[8:]...)
	}
	if len(out) != 4 || string(all) != "VALUE k 0 5000\r\n"+big+"\r\nEND\r\n" {
		t.Fatalf("%d datagrams, reply %q...", len(out), all[:40])
	}
	binary.BigEndian.PutUint16(req[4:], 2) // multi-datagram requests are dropped
	if s.HandleUDP(append(req, "version\r\n"...)) != nil || s.HandleUDP([]byte{1, 2}) != nil {
		t.Fatal("answered a bad datagram")
	}
}

func TestTCPServer(t *testing.T) {
	srv, err := Listen(Config{Addr: "127.0.0.1", Port: 0, Memory: 1 << 20, ItemMax: 1 << 10, UDP: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- srv.Serve() }()
	c, err := net.Dial("tcp", srv.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	c.Write([]byte("set a 0 0 1\r\nx\r\nget a\r\n"))
	var got string
	for range 4 {
		l, _ := r.ReadString('\n')
		got += l
	}
	if got != "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n" {
		t.Fatalf("%q", got)
	}
	u, err := net.Dial("udp", srv.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	u.Write(append([]byte{0, 7, 0, 0, 0, 1, 0, 0}, "get a\r\n"...))
	buf := make([]byte, 2000)
	u.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := u.Read(buf)
	if err != nil || string(buf[8:n]) != "VALUE a 0 1\r\nx\r\nEND\r\n" || buf[1] != 7 {
		t.Fatalf("udp: %v %q", err, buf[:n])
	}
	c.Close()
	srv.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"KV_MEMORY": "16M", "KV_PORT": "1234", "KV_UDP": "0"}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || c.Memory != 16<<20 || c.Port != 1234 || c.UDP || c.ItemMax != 1<<20 {
		t.Fatalf("%+v %v", c, err)
	}
	env["KV_MEMORY"] = "lots"
	if _, err := ConfigFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "KV_MEMORY") {
		t.Fatalf("bad size accepted: %v", err)
	}
}

// listen starts a server on loopback with c's limits; it stops at the end of the test.
func listen(t *testing.T, c Config) *Server {
	t.Helper()
	c.Addr, c.Port, c.Memory, c.ItemMax = "127.0.0.1", 0, 1<<20, 1024
	s, err := Listen(c)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(s.Close)
	return s
}

func dial(t *testing.T, s *Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

func TestTooLargeIsAnsweredBeforeTheDataArrives(t *testing.T) {
	s := listen(t, Config{})
	c, r := dial(t, s)
	fmt.Fprintf(c, "set huge 0 0 2000000000\r\n")
	line, err := r.ReadString('\n')
	if err != nil || line != "SERVER_ERROR object too large for cache\r\n" {
		t.Fatalf("%q %v", line, err)
	}
	// The announced data is swallowed; what follows it is the next request.
	fmt.Fprintf(c, "%s\r\nversion\r\n", strings.Repeat("x", 4096))
	c.Close()
	c, r = dial(t, s)
	fmt.Fprintf(c, "set small 0 0 3000\r\n%s\r\nversion\r\n", strings.Repeat("y", 3000))
	for _, want := range []string{"SERVER_ERROR object too large for cache\r\n", "VERSION " + Version + "\r\n"} {
		if line, err := r.ReadString('\n'); err != nil || line != want {
			t.Fatalf("got %q %v, want %q", line, err, want)
		}
	}
}

func TestConnectionLimit(t *testing.T) {
	s := listen(t, Config{MaxConns: 2})
	var held []*bufio.Reader
	for i := 0; i < 2; i++ {
		c, r := dial(t, s)
		fmt.Fprintf(c, "version\r\n")
		if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "VERSION ") {
			t.Fatalf("connection %d: %q", i, line)
		}
		held = append(held, r)
	}
	_, r := dial(t, s)
	if line, _ := r.ReadString('\n'); line != "ERROR Too many open connections\r\n" {
		t.Fatalf("third connection: %q", line)
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("the refused connection stayed open")
	}
	c, r := dial(t, s)
	_ = c
	if line, _ := r.ReadString('\n'); line != "ERROR Too many open connections\r\n" {
		t.Fatalf("fourth connection: %q", line)
	}
	stats := run(t, s.Store, "stats\r\n")
	if !strings.Contains(stats, "STAT rejected_connections 2\r\n") || !strings.Contains(stats, "STAT max_connections 2\r\n") {
		t.Fatalf("stats: %q", stats)
	}
}

func TestIdleTimeoutClosesTheConnection(t *testing.T) {
	s := listen(t, Config{MaxConns: 10, IdleTimeout: time.Second})
	c, r := dial(t, s)
	fmt.Fprintf(c, "version\r\n")
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "VERSION ") {
		t.Fatalf("%q", line)
	}
	if _, err := r.ReadString('\n'); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server kept the idle connection: %v", err)
	}
	if stats := run(t, s.Store, "stats\r\n"); !strings.Contains(stats, "STAT idle_kicks 1\r\n") {
		t.Fatalf("stats: %q", stats)
	}
}

// readBlock returns exactly the block, small or chunked, and fails on a short one.
func TestReadBlock(t *testing.T) {
	for _, n := range []int{2, 102, blockChunk, blockChunk + 1, 3*blockChunk + 17} {
		src := strings.Repeat("v", n)
		got, err := readBlock(strings.NewReader(src+"rest"), n)
		if err != nil || string(got) != src || cap(got) != n {
			t.Errorf("n=%d: len %d cap %d err %v", n, len(got), cap(got), err)
		}
	}
	if _, err := readBlock(strings.NewReader("short"), blockChunk+10); err == nil {
		t.Error("a short large block read without error")
	}
}

// chunkReader returns one chunk per Read (as a connection delivers segments), calling seen
// first: what the session holds at each read.
type chunkReader struct {
	chunks []string
	seen   func()
}

func (c *chunkReader) Read(b []byte) (int, error) {
	c.seen()
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(b, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; c.chunks[0] == "" {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

// TestIdleSessionHoldsNoBuffers: a session waits for each request with neither its reader
// nor its writer (both back in their pools), holds them while a request is read and answered
// (a data block arriving later), and pipelined requests are answered in order in one write.
func TestIdleSessionHoldsNoBuffers(t *testing.T) {
	st, _ := newTestStore()
	in := &chunkReader{chunks: []string{"set a 0 0 1\r\n", "x\r\n", "get a\r\nversion\r\n", "get a\r\n"}}
	var out strings.Builder
	s := newSession(st, in, &out, 1)
	var idle []bool
	in.seen = func() { idle = append(idle, s.r == nil && s.w == nil) }
	if err := s.serve(); err != nil {
		t.Fatal(err)
	}
	want := "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\nVERSION " + Version + "\r\nVALUE a 0 1\r\nx\r\nEND\r\n"
	if out.String() != want {
		t.Fatalf("answers %q, want %q", out.String(), want)
	}
	// Reads: the set's line (idle), its data block (buffers held), the pipelined pair, the
	// last get, EOF: idle each time.
	if fmt.Sprint(idle) != "[true false true true true]" {
		t.Fatalf("idle at each read: %v, want [true false true true true]", idle)
	}
	if s.r != nil || s.w != nil {
		t.Fatal("buffers held after serve returned")
	}
}
