//go:build linux

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"goxen/netstack/adapters/gonet"
	"goxen/netstack/transport/tcp"
)

// startTCP starts the TCP echo, sink and HTTP services (a zero port leaves one out).
func startTCP(tp *tcp.Protocol, echo, sink, httpPort int) {
	serve := func(port int, handle func(*tcp.Endpoint)) {
		if port == 0 {
			return
		}
		l, err := tp.Listen(netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port)), 0, 0)
		check(err)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go handle(c)
			}
		}()
	}
	serve(echo, func(c *tcp.Endpoint) {
		io.Copy(c, c)
		c.Close()
	})
	serve(sink, func(c *tcp.Endpoint) {
		h := sha256.New()
		io.Copy(h, c)
		io.WriteString(c, hex.EncodeToString(h.Sum(nil)))
		c.Close()
	})
	if httpPort != 0 {
		l, err := gonet.ListenTCP(tp, &net.TCPAddr{Port: httpPort})
		check(err)
		mux := http.NewServeMux()
		mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello from netstack, %s\n", r.RemoteAddr)
		})
		mux.HandleFunc("/bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
			n, err := strconv.Atoi(r.PathValue("n"))
			if err != nil || n < 0 {
				http.Error(w, "bad size", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(n))
			io.CopyN(w, rand.New(rand.NewSource(1)), int64(n))
		})
		mux.HandleFunc("/bytes/{n}/sha256", func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(r.PathValue("n"))
			h := sha256.New()
			io.CopyN(h, rand.New(rand.NewSource(1)), int64(n))
			io.WriteString(w, hex.EncodeToString(h.Sum(nil)))
		})
		go http.Serve(l, mux)
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
