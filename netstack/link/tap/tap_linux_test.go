package tap

import (
	"bytes"
	"os"
	"syscall"
	"testing"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
)

// TestOpenWriteClose needs root: it creates a TAP device in the current network namespace,
// so it runs only when NETSTACK_TAP_TEST names a device (tests/host sets it inside a
// namespace of its own).
func TestOpenWriteClose(t *testing.T) {
	name := os.Getenv("NETSTACK_TAP_TEST")
	if name == "" {
		t.Skip("set NETSTACK_TAP_TEST=<device> (root, inside a scratch network namespace)")
	}
	ep, err := Open(name, 1500, header.LinkAddr{2, 0, 0, 0, 0, 9})
	if err != nil {
		t.Fatal(err)
	}
	ep.Attach(link.DispatcherFunc(func(p *buffer.Packet) { p.Release() }))
	if ep.MTU() != 1500 {
		t.Fatal("mtu")
	}
	// The device is down: writes may fail with EIO, but must not hang or crash.
	ep.WritePacket(buffer.FromBytes(make([]byte, 60)))
	done := make(chan error)
	go func() { done <- ep.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the blocked reader")
	}
	if err := ep.WritePacket(buffer.FromBytes(make([]byte, 60))); err != link.ErrClosed {
		t.Fatalf("write after close: %v", err)
	}
}

// The virtio_net_hdr in front of a sent frame says what Linux must still do: nothing for a
// complete frame, the checksum's place for a partial one, and the cut for a GSO segment
// (include/uapi/linux/virtio_net.h, little-endian fields).
func TestVnetHdrOnSend(t *testing.T) {
	e := &Endpoint{offload: true}
	mk := func(o buffer.Offload) []byte {
		p := buffer.New(buffer.Headroom, 14+20+32+3000)
		p.Extend(14 + 20 + 32 + 3000)
		p.Offload = o
		e.pushVnetHdr(p)
		return append([]byte(nil), p.Bytes()[:vnetHdrLen]...)
	}
	if h := mk(buffer.Offload{}); string(h) != string(make([]byte, 10)) {
		t.Fatalf("plain frame: %x", h)
	}
	h := mk(buffer.Offload{CsumPartial: true, L4Len: 32 + 3000, CsumOffset: 16})
	if want := []byte{1, 0, 0, 0, 0, 0, 34, 0, 16, 0}; string(h) != string(want) {
		t.Fatalf("partial checksum: %x, want %x", h, want)
	}
	h = mk(buffer.Offload{CsumPartial: true, L4Len: 32 + 3000, CsumOffset: 16, L4HdrLen: 32,
		GSOType: buffer.GSOTCPv6, GSOSize: 1428})
	if want := []byte{1, 4, 66, 0, 0x94, 0x05, 34, 0, 16, 0}; string(h) != string(want) {
		t.Fatalf("GSO: %x, want %x", h, want)
	}
}

// A received header is input: GSO types other than TCP and short frames are refused; a
// partial or validated checksum is marked so that the stack does not check it again.
func TestVnetHdrOnReceive(t *testing.T) {
	e := &Endpoint{offload: true}
	for _, c := range []struct {
		hdr       []byte
		ok, valid bool
	}{
		{[]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true, false},
		{[]byte{1, 1, 66, 0, 0xa8, 5, 34, 0, 16, 0}, true, true},  // TCPv4 GSO, partial checksum
		{[]byte{2, 0x84, 0, 0, 0, 0, 0, 0, 0, 0}, true, true},     // TCPv6 with ECN, validated
		{[]byte{1, 3, 42, 0, 0xa8, 5, 34, 0, 6, 0}, false, false}, // UDP fragmentation offload: never agreed
		{[]byte{1, 5, 42, 0, 0xa8, 5, 34, 0, 6, 0}, false, false}, // UDP L4 segmentation
		{[]byte{0, 0, 0}, false, false},                           // cut short
	} {
		p := buffer.FromBytes(append(append([]byte(nil), c.hdr...), make([]byte, 60)...))
		if len(c.hdr) < vnetHdrLen {
			p = buffer.FromBytes(c.hdr)
		}
		ok := e.takeVnetHdr(p)
		if ok != c.ok || ok && p.Offload.CsumValid != c.valid {
			t.Errorf("%x: ok %v valid %v, want %v %v", c.hdr, ok, p.Offload.CsumValid, c.ok, c.valid)
		}
		if ok && p.Len() != 60 {
			t.Errorf("%x: %d bytes left", c.hdr, p.Len())
		}
	}
}

// batchRecorder is a link.BatchDispatcher that reports each batch's frames.
type batchRecorder struct{ batches chan [][]byte }

func (r batchRecorder) DeliverFrame(p *buffer.Packet) { r.DeliverFrames([]*buffer.Packet{p}) }

func (r batchRecorder) DeliverFrames(ps []*buffer.Packet) {
	var b [][]byte
	for _, p := range ps {
		b = append(b, append([]byte(nil), p.Bytes()...))
		p.Release()
	}
	r.batches <- b
}

// The read loop hands over what is queued in batches of up to link.MaxBatch, and a frame it
// waited for at once. A SOCK_SEQPACKET socket stands in for the device: one frame per read(2).
func TestReadLoopBatches(t *testing.T) {
	e, peer := seqpacketDevice(t)
	r := batchRecorder{make(chan [][]byte, 8)}
	e.Attach(r)
	frame := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 60+i) }
	for i := range link.MaxBatch + 6 {
		if _, err := peer.Write(frame(i)); err != nil {
			t.Fatal(err)
		}
	}
	go e.readLoop()
	next := func() [][]byte {
		select {
		case b := <-r.batches:
			return b
		case <-time.After(5 * time.Second):
			t.Fatal("no batch")
			return nil
		}
	}
	first, second := next(), next()
	if len(first) != link.MaxBatch || len(second) != 6 {
		t.Fatalf("batches of %d and %d frames", len(first), len(second))
	}
	got := append(first, second...)
	for i, b := range got {
		if !bytes.Equal(b, frame(i)) {
			t.Fatalf("frame %d: %d bytes %x...", i, len(b), b[:1])
		}
	}
	peer.Write(frame(1))
	if b := next(); len(b) != 1 || !bytes.Equal(b[0], frame(1)) {
		t.Fatalf("lone frame: %d frames", len(b))
	}
	// A frame that had to be waited for goes on alone, even when more follow at once; the
	// rest come in order.
	time.Sleep(20 * time.Millisecond) // the loop waits in the poller again
	for i := range 8 {
		peer.Write(frame(i))
	}
	if b := next(); len(b) != 1 || !bytes.Equal(b[0], frame(0)) {
		t.Fatalf("after a wait: a batch of %d frames first", len(b))
	}
	for i := 1; i < 8; {
		for _, b := range next() {
			if !bytes.Equal(b, frame(i)) {
				t.Fatalf("frame %d: %d bytes", i, len(b))
			}
			i++
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// seqpacketDevice is an Endpoint whose device is one end of a SOCK_SEQPACKET socket pair (one
// frame per read(2), as a TAP's), and the other end; the read loop is not started.
func seqpacketDevice(t *testing.T) (*Endpoint, *os.File) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	e := &Endpoint{f: os.NewFile(uintptr(fds[0]), "tap-test"), mtu: 1500, done: make(chan struct{}),
		wake: make(chan struct{}, 1)}
	if err := e.initRx(); err != nil {
		t.Fatal(err)
	}
	peer := os.NewFile(uintptr(fds[1]), "peer")
	t.Cleanup(func() { peer.Close() })
	return e, peer
}
