//go:build linux

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"goxen/netstack/adapters/gonet"
	"goxen/netstack/cmd/internal/peersvc"
	"goxen/netstack/transport/tcp"
)

// startTCP starts the TCP echo, sink and HTTP services (a zero port leaves one out): the
// services of peersvc, which linuxpeer serves over Linux's sockets.
func startTCP(tp *tcp.Protocol, echo, sink, httpPort int) {
	serve := func(port int, handle func(*tcp.Endpoint)) {
		if port == 0 {
			return
		}
		l, err := tp.Listen(netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(port)), 0, 0)
		check(err)
		go peersvc.Serve(l.Accept, handle)
	}
	serve(echo, func(c *tcp.Endpoint) { peersvc.Echo(c) })
	serve(sink, func(c *tcp.Endpoint) { peersvc.Sink(c) })
	if httpPort != 0 {
		l, err := gonet.ListenTCP(tp, &net.TCPAddr{Port: httpPort})
		check(err)
		go http.Serve(l, peersvc.Handler("netstack"))
	}
}

func tcpsend(tp *tcp.Protocol, dst, size string) string {
	ap, err := netip.ParseAddrPort(dst)
	if err != nil {
		return "ERROR " + err.Error()
	}
	n, err := strconv.Atoi(size)
	if err != nil {
		return "ERROR " + err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tp.Connect(ctx, netip.AddrPort{}, ap, 0)
	if err != nil {
		return "ERROR " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(c, h), rand.New(rand.NewSource(2)), int64(n)); err != nil {
		return "ERROR " + err.Error()
	}
	if err := c.CloseWrite(); err != nil {
		return "ERROR " + err.Error()
	}
	reply, err := io.ReadAll(c)
	if err != nil {
		return "ERROR " + err.Error()
	}
	return "TCPSENT " + hex.EncodeToString(h.Sum(nil)) + " " + strings.TrimSpace(string(reply))
}

func tcpconnect(tp *tcp.Protocol, dst string) string {
	ap, err := netip.ParseAddrPort(dst)
	if err != nil {
		return "ERROR " + err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tp.Connect(ctx, netip.AddrPort{}, ap, 0)
	if err != nil {
		return "ERROR " + err.Error()
	}
	c.Close()
	return "CONNECTED"
}
