// sigterm takes the toolstack's shutdown request as SIGTERM (xl shutdown, xl reboot; see
// tests/xen3/test_shutdown.py), prints that it got it, finishes its work and returns from
// main, which ends the domain cleanly.
//
// Environment (env.KEY=VALUE on the kernel command line):
//
//	SIGTERM_MODE    notify (default); ignore: signal.Ignore(SIGTERM) first, and wait for
//	                FINISH instead of a signal; reset: Notify, then Reset(SIGTERM), so the
//	                default applies again (the domain shuts down at once).
//	SIGTERM_FINISH  a UDP address (":7000"): after SIGTERM, wait for a datagram "finish"
//	                there before finishing, so a test can act while the program handles it.
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	mode := os.Getenv("SIGTERM_MODE")
	var finish net.PacketConn
	if addr := os.Getenv("SIGTERM_FINISH"); addr != "" {
		var err error
		if finish, err = net.ListenPacket("udp", addr); err != nil {
			fmt.Println("listen:", err)
			os.Exit(1)
		}
	}
	c := make(chan os.Signal, 1)
	switch mode {
	case "", "notify":
		signal.Notify(c, syscall.SIGTERM)
	case "ignore":
		signal.Ignore(syscall.SIGTERM)
	case "reset":
		signal.Notify(c, syscall.SIGTERM)
		signal.Reset(syscall.SIGTERM)
	default:
		fmt.Println("bad SIGTERM_MODE", mode)
		os.Exit(2)
	}
	fmt.Println("waiting for SIGTERM, mode", mode)
	if mode == "ignore" {
		waitFinish(finish)
		fmt.Println("still running after the request")
		return
	}
	s := <-c
	fmt.Println("got signal:", s)
	waitFinish(finish)
	for i := 1; i <= 3; i++ {
		time.Sleep(50 * time.Millisecond)
		fmt.Println("cleanup step", i)
	}
	fmt.Println("cleanup done")
}

func waitFinish(pc net.PacketConn) {
	if pc == nil {
		return
	}
	fmt.Println("waiting for finish on", pc.LocalAddr())
	buf := make([]byte, 64)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			fmt.Println("read:", err)
			os.Exit(1)
		}
		if string(buf[:n]) == "finish" {
			pc.WriteTo([]byte("finishing"), from)
			return
		}
	}
}
