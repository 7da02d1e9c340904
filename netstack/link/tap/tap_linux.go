// Package tap is a link endpoint on a Linux TAP device (/dev/net/tun with IFF_TAP|IFF_NO_PI):
// each read(2) returns one Ethernet frame and each write(2) sends one. The device must exist
// or be creatable by the caller (root or CAP_NET_ADMIN); the stack uses its own MAC address,
// distinct from the one Linux gives the device's host side.
package tap

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
)

// ioctl numbers and flags from Linux's include/uapi/linux/if_tun.h.
const (
	tunSetIff = 0x400454ca // TUNSETIFF = _IOW('T', 202, int)
	iffTap    = 0x0002
	iffNoPI   = 0x1000
)

// ifreq mirrors struct ifreq's name and flags (include/uapi/linux/if.h), padded to 40 bytes.
type ifreq struct {
	name  [16]byte
	flags uint16
	_     [22]byte
}

// Endpoint is an open TAP device.
type Endpoint struct {
	f    *os.File // non-blocking, so reads wait in Go's poller and Close wakes them
	mtu  int
	addr header.LinkAddr

	mu     sync.Mutex
	d      link.Dispatcher
	closed bool
	wmu    sync.Mutex
	done   chan struct{}
}

// Open attaches to TAP device name (creating it if absent) with the given MTU and the
// stack's MAC address, and starts the receive goroutine.
func Open(name string, mtu int, addr header.LinkAddr) (*Endpoint, error) {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var req ifreq
	copy(req.name[:15], name)
	req.flags = iffTap | iffNoPI
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&req))); e != 0 {
		syscall.Close(fd)
		return nil, e
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	e := &Endpoint{f: os.NewFile(uintptr(fd), "tap:"+name), mtu: mtu, addr: addr, done: make(chan struct{})}
	go e.readLoop()
	return e, nil
}

func (e *Endpoint) MTU() int                  { return e.mtu }
func (e *Endpoint) LinkAddr() header.LinkAddr { return e.addr }

func (e *Endpoint) Attach(d link.Dispatcher) {
	e.mu.Lock()
	e.d = d
	e.mu.Unlock()
}

func (e *Endpoint) WritePacket(p *buffer.Packet) error {
	defer p.Release()
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if e.closed {
		return link.ErrClosed
	}
	_, err := e.f.Write(p.Bytes())
	return err
}

// readLoop blocks in read(2) and hands each frame to the dispatcher (frames arriving before
// Attach are dropped).
func (e *Endpoint) readLoop() {
	defer close(e.done)
	for {
		p := buffer.New(buffer.Headroom, e.mtu+header.EthernetMinSize)
		b := p.Extend(e.mtu + header.EthernetMinSize)
		n, err := e.f.Read(b)
		if err != nil || n <= 0 {
			p.Release()
			return
		}
		p.Trim(n)
		e.mu.Lock()
		d := e.d
		e.mu.Unlock()
		if d == nil {
			p.Release()
			continue
		}
		d.DeliverFrame(p)
	}
}

// Close closes the device and waits for the receive goroutine to end.
func (e *Endpoint) Close() error {
	e.wmu.Lock()
	if e.closed {
		e.wmu.Unlock()
		return nil
	}
	e.closed = true
	err := e.f.Close()
	e.wmu.Unlock()
	<-e.done
	if errors.Is(err, os.ErrClosed) {
		err = nil
	}
	return err
}
