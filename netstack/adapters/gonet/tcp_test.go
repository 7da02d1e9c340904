package gonet_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"goxen/netstack/adapters/gonet"
	"goxen/netstack/link/channel"
	"goxen/netstack/transport/tcp"
)

// TestHTTPOverTCP serves net/http on one stack through the net.Listener adapter and fetches
// from the other with an http.Client dialing through the net.Conn adapter (keep-alive on).
func TestHTTPOverTCP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sa, _, ea := newHost(t, 1, "10.1.0.1/24")
	sb, _, eb := newHost(t, 2, "10.1.0.2/24")
	channel.Wire(ctx, ea, eb)
	ta, tb := tcp.New(sa), tcp.New(sb)

	l, err := gonet.ListenTCP(tb, &net.TCPAddr{Port: 80})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s from %s", r.URL.Path, r.RemoteAddr)
	})}
	go srv.Serve(l)
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			return nil, err
		}
		return gonet.DialTCP(ctx, ta, nil, net.TCPAddrFromAddrPort(ap))
	}}, Timeout: 10 * time.Second}
	for i := range 20 {
		resp, err := client.Get(fmt.Sprintf("http://10.1.0.2/x%d", i))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := fmt.Sprintf("hello /x%d from 10.1.0.1:", i)
		if err != nil || len(body) < len(want) || string(body[:len(want)]) != want {
			t.Fatalf("%q %v", body, err)
		}
	}

	// A closed port refuses with ECONNREFUSED inside a *net.OpError.
	_, err = gonet.DialTCP(ctx, ta, nil, &net.TCPAddr{IP: net.IPv4(10, 1, 0, 2), Port: 81})
	var oe *net.OpError
	if !errors.As(err, &oe) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial closed port: %v", err)
	}
}
