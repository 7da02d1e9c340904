// Command linuxpeer is the Linux side's peer of `./scons bench`'s host part
// (site_scons/goxen/bench/host.py): tapstack's services (peersvc: UDP echo on 7, TCP sink on 9,
// HTTP on 80) over Linux's own sockets, so that netstack and Linux are measured with the same
// code above the stack. It prints "READY ADDR" once it serves.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"

	"goxen/netstack/cmd/internal/peersvc"
)

func main() {
	addr := flag.String("addr", "", "address to serve on")
	flag.Parse()
	u, err := net.ListenPacket("udp", net.JoinHostPort(*addr, "7"))
	if err != nil {
		log.Fatal(err)
	}
	go peersvc.EchoUDP(u)
	sink, err := net.Listen("tcp", net.JoinHostPort(*addr, "9"))
	if err != nil {
		log.Fatal(err)
	}
	go peersvc.Serve(sink.Accept, func(c net.Conn) { peersvc.Sink(c) })
	l, err := net.Listen("tcp", net.JoinHostPort(*addr, "80"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("READY", *addr)
	log.Fatal(http.Serve(l, peersvc.Handler("linux")))
}
