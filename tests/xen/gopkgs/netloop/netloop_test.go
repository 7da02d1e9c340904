// Package netloop exercises TCP (and UDP) through the ordinary net, net/http and crypto/tls
// APIs over the loopback interface, in a domain without vifs: `go test -exec go_xen_exec`
// boots the test binary as dom0 on the tier-2 bed (tests/xen/test_net_loopback.py). Each
// case is a test; what a case shows (the interface list, the error texts, the TLS version)
// it prints, and `go test -v` passes on.
package netloop

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pattern is n deterministic pseudo-random bytes.
func pattern(n int, seed uint64) []byte {
	r := mrand.New(mrand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func listen() (net.Listener, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("listen on the loopback: " + err.Error()) // fails the test that called it
	}
	return l, l.Addr().String()
}

func interfaces() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	var names []string
	for _, ifi := range ifs {
		names = append(names, ifi.Name)
	}
	fmt.Println("interfaces:", strings.Join(names, ","))
	if len(ifs) == 0 || ifs[0].Name != "lo" || ifs[0].Flags&net.FlagLoopback == 0 || ifs[0].Flags&net.FlagUp == 0 {
		return fmt.Errorf("want lo first, up and loopback: %+v", ifs)
	}
	addrs, err := ifs[0].Addrs()
	if err != nil || len(addrs) != 2 || addrs[0].String() != "127.0.0.1/8" || addrs[1].String() != "::1/128" {
		return fmt.Errorf("lo addrs %v %v, want [127.0.0.1/8 ::1/128]", addrs, err)
	}
	return nil
}

// serveEcho echoes every connection l accepts until l is closed.
func serveEcho(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() { io.Copy(c, c); c.Close() }()
	}
}

// loopback6 runs TCP and UDP over ::1, and a dual-stack listener (":0", [::]) that takes
// IPv4 and IPv6 clients alike and sees each with its own family, as on Linux.
func loopback6() error {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return err
	}
	defer l.Close()
	go serveEcho(l)
	c, err := net.Dial("tcp6", l.Addr().String())
	if err != nil {
		return err
	}
	msg := pattern(100000, 6)
	go c.Write(msg)
	got := make([]byte, len(msg))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		return fmt.Errorf("echo over ::1: %v", err)
	}
	c.Close()

	d, err := net.Listen("tcp", ":0")
	if err != nil {
		return err
	}
	defer d.Close()
	_, port, _ := net.SplitHostPort(d.Addr().String())
	fmt.Println("dual-stack listener:", d.Addr())
	for _, dst := range []string{"127.0.0.1", "::1"} {
		c, err := net.Dial("tcp", net.JoinHostPort(dst, port))
		if err != nil {
			return err
		}
		s, err := d.Accept()
		if err != nil {
			return err
		}
		peer := s.RemoteAddr().(*net.TCPAddr).IP
		if !peer.Equal(net.ParseIP(dst)) || (peer.To4() != nil) != (dst == "127.0.0.1") {
			return fmt.Errorf("dual-stack accept from %s: peer %v", dst, peer)
		}
		fmt.Println("dual-stack accept:", s.RemoteAddr())
		s.Close()
		c.Close()
	}

	return udpRoundTrip("udp6", "[::1]:0", "datagram6")
}

func ephemeral() error {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return err
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if port == 0 {
		return fmt.Errorf("listener on :0 has port 0")
	}
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "hi" {
		return fmt.Errorf("read %q %v", b, err)
	}
	la, ra := c.LocalAddr().(*net.TCPAddr), c.RemoteAddr().(*net.TCPAddr)
	if ra.Port != port || !ra.IP.Equal(net.IPv4(127, 0, 0, 1)) || la.Port == 0 || !la.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		return fmt.Errorf("addresses %v -> %v", la, ra)
	}
	return nil
}

// localhost: the name resolves to the loopback address (the generated /etc/hosts), and a
// listener on it is reachable by name.
func localhost() error {
	addrs, err := net.LookupHost("localhost")
	if err != nil {
		return err
	}
	fmt.Println("localhost:", strings.Join(addrs, " "))
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		return err
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	c, err := net.Dial("tcp", "localhost:"+port)
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

// echo1M sends 1 MB to an echo server while reading the echo, and checks both directions.
func echo1M() error {
	l, addr := listen()
	defer l.Close()
	srvGot := make(chan [32]byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			srvGot <- [32]byte{}
			return
		}
		h := sha256.New()
		io.Copy(io.MultiWriter(c, h), c)
		c.(*net.TCPConn).CloseWrite()
		var sum [32]byte
		h.Sum(sum[:0])
		srvGot <- sum
		c.Close()
	}()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	msg := pattern(1<<20, 1)
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		return fmt.Errorf("read: %v", err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %v", err)
	}
	if <-srvGot != sha256.Sum256(msg) {
		return fmt.Errorf("server received different bytes")
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo: got %d bytes, want the %d sent", len(got), len(msg))
	}
	fmt.Printf("echo1m: %d bytes each way, sha256 %x\n", len(got), sha256.Sum256(got))
	return nil
}

func halfClose() error {
	l, addr := listen()
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, err := io.ReadAll(c) // until the client's FIN
		if err != nil {
			return
		}
		c.Write([]byte("got " + string(b)))
	}()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.Write([]byte("request"))
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	if _, err := c.Write([]byte("more")); err == nil {
		return fmt.Errorf("write after CloseWrite succeeded")
	}
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "got request" {
		return fmt.Errorf("read %q %v, want \"got request\" then EOF", b, err)
	}
	return nil
}

func closeRead() error {
	l, addr := listen()
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		time.Sleep(50 * time.Millisecond)
		io.Copy(io.Discard, c)
	}()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.(*net.TCPConn).CloseRead(); err != nil {
		return err
	}
	if err := <-done; err != io.EOF {
		return fmt.Errorf("blocked read after CloseRead: %v, want EOF", err)
	}
	if _, err := c.Write([]byte("still writable")); err != nil {
		return fmt.Errorf("write after CloseRead: %v", err)
	}
	return nil
}

func refused() error {
	l, addr := listen()
	l.Close()
	_, err := net.Dial("tcp", addr)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("dial closed port: %v, want ECONNREFUSED", err)
	}
	fmt.Println("refused:", err)
	return nil
}

// reset: the server closes with unread data, which resets the connection.
func reset() error {
	l, addr := listen()
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Read(make([]byte, 1))
		c.Close()
	}()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.Write([]byte("xy"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 10))
	if !errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("read: %v, want ECONNRESET", err)
	}
	fmt.Println("reset:", err)
	return nil
}

func addrInUse() error {
	l, addr := listen()
	defer l.Close()
	_, err := net.Listen("tcp", addr)
	if !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("second listen on %s: %v, want EADDRINUSE", addr, err)
	}
	fmt.Println("addrinuse:", err)
	_, err = net.Listen("tcp", "192.0.2.1:80") // TEST-NET-1: not ours
	if !errors.Is(err, syscall.EADDRNOTAVAIL) {
		return fmt.Errorf("listen on an address not ours: %v, want EADDRNOTAVAIL", err)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout()
}

// isDialTimeout: a dial that ran out of time fails with net's "i/o timeout", which is a
// net.Error with Timeout() and matches context.DeadlineExceeded (as on Linux).
func isDialTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, context.DeadlineExceeded)
}

func deadlines() error {
	l, addr := listen()
	defer l.Close()
	tl := l.(*net.TCPListener)
	tl.SetDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := l.Accept(); !isTimeout(err) {
		return fmt.Errorf("accept past deadline: %v", err)
	}
	tl.SetDeadline(time.Time{})
	srv := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			srv <- nil
			return
		}
		srv <- c // reads nothing until the test is done
	}()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	s := <-srv
	if s == nil {
		return fmt.Errorf("accept failed")
	}
	defer s.Close()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
		return fmt.Errorf("read past deadline: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	s.Write([]byte("z"))
	if n, err := c.Read(make([]byte, 1)); n != 1 || err != nil {
		return fmt.Errorf("read after clearing the deadline: %d %v", n, err)
	}
	// The peer does not read: the windows and buffers fill and Write stops at the deadline.
	c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	big := make([]byte, 4<<20)
	n, err := c.Write(big)
	if !isTimeout(err) || n >= len(big) {
		return fmt.Errorf("write to a peer not reading: %d bytes, %v", n, err)
	}
	fmt.Printf("deadlines: write stopped after %d bytes: %v\n", n, err)
	return nil
}

// dialContext fills a listener's accept queue so that further SYNs are dropped, then
// checks that cancellation and timeouts end a dial that would otherwise keep retrying.
func dialContext() error {
	l, addr := listen()
	defer l.Close()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// The accept queue holds the listen backlog, Linux's somaxconn (4096, net/sock_xen.go):
	// the dial after it times out, its SYN dropped as Linux drops it.
	const most = 5000
	var d net.Dialer
	for range most {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		c, err := d.DialContext(ctx, "tcp", addr)
		cancel()
		if err != nil {
			if !isDialTimeout(err) {
				return fmt.Errorf("dial %d to a full listener: %v, want a timeout", len(conns), err)
			}
			fmt.Printf("dialcontext: accept queue full after %d connections: %v\n", len(conns), err)
			break
		}
		conns = append(conns, c)
	}
	if len(conns) != 4096 {
		return fmt.Errorf("%d dials succeeded without accepting, want the backlog: 4096", len(conns))
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := d.DialContext(ctx, "tcp", addr)
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("canceled dial: %v, want context.Canceled", err)
	}
	if _, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); !isDialTimeout(err) {
		return fmt.Errorf("DialTimeout: %v, want a timeout", err)
	}
	return nil
}

func closed() error {
	l, addr := listen()
	accErr := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Close()
			_, err = l.Accept() // blocks until l.Close
		}
		accErr <- err
	}()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		return fmt.Errorf("read from a closed peer: %q %v, want EOF", b, err)
	}
	c.Close()
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("read after Close: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("write after Close: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	l.Close()
	if err := <-accErr; !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("blocked accept on closing: %v", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("accept after Close: %v", err)
	}
	return nil
}

func options() error {
	l, addr := listen()
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	tc := c.(*net.TCPConn)
	for what, err := range map[string]error{
		"SetNoDelay(false)":  tc.SetNoDelay(false),
		"SetKeepAlive":       tc.SetKeepAlive(true),
		"SetKeepAlivePeriod": tc.SetKeepAlivePeriod(30 * time.Second),
		"SetKeepAliveConfig": tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Minute, Interval: 10 * time.Second, Count: 3}),
		"SetReadBuffer":      tc.SetReadBuffer(1 << 16),
		"SetWriteBuffer":     tc.SetWriteBuffer(1 << 16),
		"SetNoDelay(true)":   tc.SetNoDelay(true),
		"SetLinger(-1)":      tc.SetLinger(-1),
	} {
		if err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
	}
	c.Write([]byte("still"))
	b := make([]byte, 5)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "still" {
		return fmt.Errorf("echo after setting options: %q %v", b, err)
	}
	return nil
}

func udpLoop() error { return udpRoundTrip("udp", "127.0.0.1:0", "datagram") }

// udpRoundTrip sends msg from a connected socket to one listening on network, addr and
// checks what arrives and from where.
func udpRoundTrip(network, addr, msg string) error {
	a, err := net.ListenPacket(network, addr)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := net.Dial("udp", a.LocalAddr().String())
	if err != nil {
		return err
	}
	defer b.Close()
	b.Write([]byte(msg))
	a.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 100)
	n, from, err := a.ReadFrom(buf)
	if err != nil || string(buf[:n]) != msg || from.String() != b.LocalAddr().String() {
		return fmt.Errorf("got %q from %v (%v), want %q from %v", buf[:n], from, err, msg, b.LocalAddr())
	}
	return nil
}

func httpLoop() error {
	l, addr := listen()
	body := pattern(200000, 2)
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s from %s", r.URL.Query().Get("n"), r.RemoteAddr[:strings.LastIndex(r.RemoteAddr, ":")])
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	defer srv.Close()
	for i := range 20 { // keep-alive: one connection for all of them
		resp, err := http.Get(fmt.Sprintf("http://%s/hello?n=%d", addr, i))
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("hello %d from 127.0.0.1", i); err != nil || string(b) != want || resp.StatusCode != 200 {
			return fmt.Errorf("GET /hello: %d %q %v, want %q", resp.StatusCode, b, err, want)
		}
	}
	resp, err := http.Get("http://" + addr + "/big")
	if err != nil {
		return err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(b, body) {
		return fmt.Errorf("GET /big: %d bytes %v, want the %d served", len(b), err, len(body))
	}
	return nil
}

// selfSigned makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "netloop"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool, nil
}

func tlsLoop() error {
	cert, pool, err := selfSigned()
	if err != nil {
		return err
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		return err
	}
	defer l.Close()
	go serveEcho(l)
	c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: pool})
	if err != nil {
		return fmt.Errorf("handshake: %v", err)
	}
	defer c.Close()
	st := c.ConnectionState()
	msg := pattern(100000, 3)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		return fmt.Errorf("echo over TLS: %v", err)
	}
	fmt.Printf("tls: %s %s, %d bytes echoed\n", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), len(got))
	// https with net/http on top.
	hl, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "secure %v", r.TLS != nil)
	})}
	go srv.Serve(hl)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + hl.Addr().String() + "/")
	if err != nil {
		return err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "secure true" {
		return fmt.Errorf("https GET: %q %v", b, err)
	}
	return nil
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestInterfaces(t *testing.T) { check(t, interfaces()) }

func TestEphemeral(t *testing.T) { check(t, ephemeral()) }

func TestLocalhost(t *testing.T) { check(t, localhost()) }

func TestEcho1M(t *testing.T) { check(t, echo1M()) }

func TestHalfClose(t *testing.T) { check(t, halfClose()) }

func TestCloseRead(t *testing.T) { check(t, closeRead()) }

func TestRefused(t *testing.T) { check(t, refused()) }

func TestReset(t *testing.T) { check(t, reset()) }

func TestAddrInUse(t *testing.T) { check(t, addrInUse()) }

func TestDeadlines(t *testing.T) { check(t, deadlines()) }

func TestDialContext(t *testing.T) { check(t, dialContext()) }

func TestClosed(t *testing.T) { check(t, closed()) }

func TestOptions(t *testing.T) { check(t, options()) }

func TestUDP(t *testing.T) { check(t, udpLoop()) }

func TestLoopback6(t *testing.T) { check(t, loopback6()) }

func TestHTTP(t *testing.T) { check(t, httpLoop()) }

func TestTLS(t *testing.T) { check(t, tlsLoop()) }
