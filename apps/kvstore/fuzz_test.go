package main

import (
	"strings"
	"testing"
)

// FuzzProtocol feeds arbitrary bytes to a session: it must not panic, and every reply is
// whole lines. Seeds: the protocol tests' inputs.
func FuzzProtocol(f *testing.F) {
	for _, in := range []string{
		"set a 5 0 3\r\nabc\r\nget a b\r\n", "gets a\r\ncas a 0 0 1 1\r\ny\r\n",
		"incr n 18446744073709551615\r\n", "set a 0 0 2000\r\n" + strings.Repeat("x", 2000) + "\r\n",
		"set a 0 0 -1\r\n", "set a 0 0 99999999999999999999\r\n", "append a 0 0 1\r\nx\r\n",
		"delete a 0 noreply\r\n", "touch a -5\r\n", "flush_all -1\r\n", "get " + strings.Repeat("k ", 200) + "\r\n",
		"stats\r\nversion\r\nverbosity 1\r\nquit\r\n", "\r\n\n\r\x00\xff",
	} {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, _ := newTestStore()
		var out strings.Builder
		newSession(s, strings.NewReader(string(in)), &out, 1).serve()
		if o := out.String(); o != "" && !strings.HasSuffix(o, "\r\n") {
			t.Fatalf("reply not ending in CRLF: %q", o)
		}
	})
}

// FuzzUDP feeds arbitrary datagrams to the UDP handler (frame header and request).
func FuzzUDP(f *testing.F) {
	f.Add([]byte("\x00\x01\x00\x00\x00\x01\x00\x00get a\r\n"))
	f.Add([]byte("\x00\x01\x00\x01\x00\x02\x00\x00get a\r\n"))
	f.Add([]byte("\x00\x01"))
	srv := &Server{}
	f.Fuzz(func(t *testing.T, d []byte) {
		s, _ := newTestStore()
		srv.Store = s
		for _, p := range srv.HandleUDP(d) {
			if len(p) > udpHeader+udpPayload {
				t.Fatalf("response datagram of %d bytes", len(p))
			}
		}
	})
}
