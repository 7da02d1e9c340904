package stack

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// ErrBadEchoReply is what Ping returns for a reply whose payload differs from the request's.
var ErrBadEchoReply = errors.New("netstack: echo reply with a different payload")

// Ping sends one ICMP (IPv4) or ICMPv6 (IPv6) echo request carrying payload to dst and waits
// until ctx ends for the reply with its identifier, returning the round-trip time: what
// ping(8) does, for tools and tests (the net package has no ICMP sockets on xen).
func (s *Stack) Ping(ctx context.Context, dst netip.Addr, payload []byte) (time.Duration, error) {
	dst = dst.Unmap()
	s.mu.Lock()
	if s.pings == nil {
		s.pings = make(map[uint16]chan []byte)
	}
	s.pingID++
	for s.pings[s.pingID] != nil {
		s.pingID++
	}
	id := s.pingID
	ch := make(chan []byte, 1)
	s.pings[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pings, id)
		s.mu.Unlock()
	}()
	n := header.ICMPv4MinSize + len(payload)
	p := buffer.New(buffer.Headroom, n)
	m := p.Extend(n)
	copy(m[header.ICMPv4MinSize:], payload)
	info := PacketInfo{Dst: dst, Protocol: header.ICMPv4ProtocolNumber}
	if dst.Is6() {
		r, err := s.FindRoute(dst, 0)
		if err != nil {
			p.Release()
			return 0, err
		}
		info.Src, info.NIC, info.Protocol = r.Src, r.NIC, header.ICMPv6ProtocolNumber
		e := header.ICMPv6(m)
		e.SetTypeCode(header.ICMPv6EchoRequest, 0)
		binary.BigEndian.PutUint32(e[4:], uint32(id)<<16|1)
		e.SetChecksum(r.Src, dst)
	} else {
		header.ICMPv4(m).Encode(&header.ICMPv4Fields{Type: header.ICMPv4Echo, Ident: id, Seq: 1})
	}
	start := time.Now()
	if err := s.WriteIP(info, p); err != nil {
		return 0, err
	}
	select {
	case got := <-ch:
		if !bytes.Equal(got, payload) {
			return 0, ErrBadEchoReply
		}
		return time.Since(start), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// echoReply hands a received echo reply (its identifier and payload) to the Ping waiting
// for it, if any. Called with s.mu held.
func (s *Stack) echoReply(id uint16, payload []byte) {
	if ch := s.pings[id]; ch != nil {
		select {
		case ch <- append([]byte(nil), payload...):
		default:
		}
	}
}
