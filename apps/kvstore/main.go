// Kvstore is an in-memory key-value store speaking the memcached text protocol over TCP and
// over UDP (with memcached's 8-byte frame header), with a memory limit and LRU eviction.
//
// Configuration, from the environment (on Xen: env.KEY=VALUE words of the kernel command line,
// which configs/kvstore.yaml's env: section writes):
//
//	KV_PORT      TCP and UDP port (default 11211)
//	KV_ADDR      address to listen on (default all)
//	KV_MEMORY    memory limit for items, e.g. 16M (default 64M)
//	KV_ITEM_MAX  largest value, e.g. 1M (default 1M)
//	KV_UDP       "0" turns UDP off
//	KV_MAX_CONNS simultaneous TCP connections (default 1024, memcached's -c); past it a client
//	             gets "ERROR Too many open connections" and is disconnected
//	KV_IDLE_TIMEOUT  seconds a TCP connection may wait between requests (default 0: no limit,
//	             memcached's idle_timeout); then it is closed
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is the server's configuration.
type Config struct {
	Addr        string
	Port        int
	Memory      int64
	ItemMax     int
	UDP         bool
	MaxConns    int
	IdleTimeout time.Duration
}

// parseSize reads 1024, 64K, 16M or 1G as a number of bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// ConfigFromEnv reads the configuration from getenv.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Addr: getenv("KV_ADDR"), Port: 11211, Memory: 64 << 20, ItemMax: 1 << 20,
		UDP: getenv("KV_UDP") != "0", MaxConns: 1024}
	if v := getenv("KV_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p <= 0 || p > 65535 {
			return c, fmt.Errorf("KV_PORT: bad port %q", v)
		}
		c.Port = p
	}
	if v := getenv("KV_MEMORY"); v != "" {
		n, err := parseSize(v)
		if err != nil {
			return c, fmt.Errorf("KV_MEMORY: %v", err)
		}
		c.Memory = n
	}
	if v := getenv("KV_ITEM_MAX"); v != "" {
		n, err := parseSize(v)
		if err != nil || n > 128<<20 {
			return c, fmt.Errorf("KV_ITEM_MAX: bad size %q", v)
		}
		c.ItemMax = int(n)
	}
	if v := getenv("KV_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("KV_MAX_CONNS: bad number %q", v)
		}
		c.MaxConns = n
	}
	if v := getenv("KV_IDLE_TIMEOUT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("KV_IDLE_TIMEOUT: bad number of seconds %q", v)
		}
		c.IdleTimeout = time.Duration(n) * time.Second
	}
	return c, nil
}

// Server serves one Store over TCP and UDP.
type Server struct {
	Store *Store
	pid   int
	tcp   net.Listener   // nil when TCP could not listen
	udp   net.PacketConn // nil without UDP
	wg    sync.WaitGroup
	conns atomic.Int64 // open TCP connections
	cfg   Config

	Warnings []string // a protocol that could not listen
}

// Listen opens the listeners; port 0 picks a free port (see TCPAddr, UDPAddr). When one
// protocol cannot listen but the other can (GOOS=xen before netstack has TCP), the server
// runs with that one alone and Warnings says why.
func Listen(c Config) (*Server, error) {
	s := &Server{Store: NewStore(c.Memory, c.ItemMax, nil), pid: os.Getpid(), cfg: c}
	s.Store.Count("max_connections", c.MaxConns)
	addr := net.JoinHostPort(c.Addr, strconv.Itoa(c.Port))
	tcp, tcpErr := net.Listen("tcp", addr)
	if tcpErr == nil {
		s.tcp = tcp
		addr = net.JoinHostPort(c.Addr, strconv.Itoa(tcp.Addr().(*net.TCPAddr).Port))
	}
	var udpErr error
	if c.UDP {
		if s.udp, udpErr = net.ListenPacket("udp", addr); udpErr != nil {
			s.udp = nil
		}
	}
	switch {
	case s.tcp == nil && s.udp == nil && c.UDP:
		return nil, fmt.Errorf("%v; %v", tcpErr, udpErr)
	case s.tcp == nil && s.udp == nil:
		return nil, tcpErr
	case tcpErr != nil:
		s.Warnings = append(s.Warnings, fmt.Sprintf("tcp: %v (serving udp only)", tcpErr))
	case udpErr != nil:
		s.Warnings = append(s.Warnings, fmt.Sprintf("udp: %v (serving tcp only)", udpErr))
	}
	return s, nil
}

func (s *Server) TCPAddr() net.Addr {
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

func (s *Server) UDPAddr() net.Addr {
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

// Serve runs until Close; it returns the first listener error other than the close.
func (s *Server) Serve() error {
	errc := make(chan error, 2)
	if s.tcp != nil {
		go func() { errc <- s.serveTCP() }()
	} else {
		errc <- nil
	}
	if s.udp != nil {
		go func() { errc <- s.serveUDP() }()
	} else {
		errc <- nil
	}
	err1, err2 := <-errc, <-errc
	s.wg.Wait()
	if err1 != nil {
		return err1
	}
	return err2
}

// Close stops the listeners (open TCP connections finish their current read).
func (s *Server) Close() {
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.udp != nil {
		s.udp.Close()
	}
}

func (s *Server) serveTCP() error {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.Store.Count("total_connections", 1)
		if s.cfg.MaxConns > 0 && s.conns.Load() >= int64(s.cfg.MaxConns) {
			// memcached's answer past -c, then the connection goes.
			s.Store.Count("rejected_connections", 1)
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write([]byte("ERROR Too many open connections\r\n"))
			c.Close()
			continue
		}
		s.conns.Add(1)
		s.Store.Count("curr_connections", 1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.conns.Add(-1)
			defer s.Store.Count("curr_connections", -1)
			defer c.Close()
			var r io.Reader = c
			if s.cfg.IdleTimeout > 0 {
				r = &idleReader{c: c, timeout: s.cfg.IdleTimeout, store: s.Store}
			}
			newSession(s.Store, r, c, s.pid).serve()
		}()
	}
}

// idleReader closes a connection's reads after timeout without data (memcached's
// idle_timeout, counted as idle_kicks).
type idleReader struct {
	c       net.Conn
	timeout time.Duration
	store   *Store
}

func (r *idleReader) Read(p []byte) (int, error) {
	r.c.SetReadDeadline(time.Now().Add(r.timeout))
	n, err := r.c.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		r.store.Count("idle_kicks", 1)
	}
	return n, err
}

// UDP framing: every datagram starts with request id, sequence number, datagram count and a
// reserved zero, each 16 bits big-endian. Requests must fit one datagram; a response longer
// than udpPayload bytes is split, all datagrams carrying the request's id.
const (
	udpHeader  = 8
	udpPayload = 1400 - udpHeader
)

// UDPResponse frames the reply to request id as datagrams.
func UDPResponse(id uint16, reply []byte) [][]byte {
	if len(reply) == 0 {
		return nil
	}
	n := (len(reply) + udpPayload - 1) / udpPayload
	if n > 0xffff {
		n = 0xffff // cannot be framed; the client sees a short reply
	}
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		chunk := reply[i*udpPayload : min((i+1)*udpPayload, len(reply))]
		d := make([]byte, udpHeader+len(chunk))
		binary.BigEndian.PutUint16(d[0:], id)
		binary.BigEndian.PutUint16(d[2:], uint16(i))
		binary.BigEndian.PutUint16(d[4:], uint16(n))
		copy(d[udpHeader:], chunk)
		out = append(out, d)
	}
	return out
}

// HandleUDP answers one request datagram (header included); nil for none.
func (s *Server) HandleUDP(d []byte) [][]byte {
	if len(d) < udpHeader {
		return nil
	}
	id := binary.BigEndian.Uint16(d[0:])
	seq, total := binary.BigEndian.Uint16(d[2:]), binary.BigEndian.Uint16(d[4:])
	if seq != 0 || total != 1 { // multi-datagram requests are not supported (as in memcached)
		return nil
	}
	var out strings.Builder
	newSession(s.Store, strings.NewReader(string(d[udpHeader:])), &out, s.pid).serve()
	return UDPResponse(id, []byte(out.String()))
}

func (s *Server) serveUDP() error {
	buf := make([]byte, 65536)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		for _, d := range s.HandleUDP(buf[:n]) {
			if _, err := s.udp.WriteTo(d, from); err != nil {
				break
			}
		}
	}
}

func main() {
	c, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvstore:", err)
		os.Exit(2)
	}
	s, err := Listen(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvstore:", err)
		os.Exit(1)
	}
	for _, w := range s.Warnings {
		fmt.Println("kvstore:", w)
	}
	tcp, udp := "off", "off"
	if a := s.TCPAddr(); a != nil {
		tcp = a.String()
	}
	if a := s.UDPAddr(); a != nil {
		udp = a.String()
	}
	fmt.Printf("kvstore: listening on tcp %s udp %s, memory limit %d bytes\n", tcp, udp, c.Memory)
	if err := s.Serve(); err != nil {
		fmt.Fprintln(os.Stderr, "kvstore:", err)
		os.Exit(1)
	}
}
