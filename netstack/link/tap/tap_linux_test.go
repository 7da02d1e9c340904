package tap

import (
	"os"
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
