// Package tap is a link endpoint on a Linux TAP device (/dev/net/tun with IFF_TAP|IFF_NO_PI):
// each read(2) returns one Ethernet frame and each write(2) sends one. The device must exist
// or be creatable by the caller (root or CAP_NET_ADMIN); the stack uses its own MAC address,
// distinct from the one Linux gives the device's host side.
//
// Open also turns on offloads (IFF_VNET_HDR, TUNSETOFFLOAD: the interface QEMU's virtio-net
// uses): every frame is preceded by a struct virtio_net_hdr (include/uapi/linux/virtio_net.h)
// saying what is left to do. Linux then hands the stack TCP segments of up to 64 KiB (GSO)
// with checksums it need not verify, and takes the stack's 64 KiB segments with partial
// checksums and cuts them itself (buffer.Offload). OpenPlain opens a device without them.
package tap

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
)

// ioctl numbers and flags from Linux's include/uapi/linux/if_tun.h.
const (
	tunSetIff     = 0x400454ca // TUNSETIFF = _IOW('T', 202, int)
	tunSetOffload = 0x400454d0 // TUNSETOFFLOAD = _IOW('T', 208, unsigned int)
	iffTap        = 0x0002
	iffNoPI       = 0x1000
	iffVnetHdr    = 0x4000
	tunFCsum      = 0x01 // TUN_F_CSUM: we take partial checksums
	tunFTSO4      = 0x02 // TUN_F_TSO4, TUN_F_TSO6: and TCP segments larger than the MTU
	tunFTSO6      = 0x04
)

// struct virtio_net_hdr (10 bytes, the legacy layout TUN uses by default, in the host's byte
// order: little-endian here).
const (
	vnetHdrLen        = 10
	vnetFlagNeedsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM: checksum at csum_start+csum_offset partial
	vnetFlagDataValid = 2 // VIRTIO_NET_HDR_F_DATA_VALID: checksum already verified
	vnetGSONone       = 0
	vnetGSOTCPv4      = 1
	vnetGSOTCPv6      = 4
	vnetGSOECN        = 0x80
	maxFrame          = header.EthernetMinSize + header.IPv4MaxTotalLen // a 64 KiB segment
)

// ifreq mirrors struct ifreq's name and flags (include/uapi/linux/if.h), padded to 40 bytes.
type ifreq struct {
	name  [16]byte
	flags uint16
	_     [22]byte
}

// Endpoint is an open TAP device.
type Endpoint struct {
	f       *os.File // non-blocking, so reads wait in Go's poller and Close wakes them
	mtu     int
	addr    header.LinkAddr
	offload bool // IFF_VNET_HDR: frames carry a virtio_net_hdr

	// RxBad counts frames dropped because their virtio_net_hdr asked for what the stack
	// never agreed to (a GSO type other than TCP) or was cut short.
	RxBad atomic.Uint64

	mu     sync.Mutex
	d      link.Dispatcher
	closed bool
	done   chan struct{}

	// The writer's: a frame with a fragment goes out in one writev(2) of iov, through rc
	// (Go's poller) with writev, a method value made once so that no write allocates.
	wmu    sync.Mutex
	rc     syscall.RawConn
	iov    [2]syscall.Iovec
	werr   syscall.Errno
	writev func(fd uintptr) bool

	rx     rxState // the reader's state: used by one goroutine at a time (rx_linux.go)
	pmu    sync.Mutex
	duty   rxDuty // guarded by pmu, as is the rest
	inside bool   // a goroutine is reading now
	want   bool   // a waiter asked the loop for the duty
	awayAt time.Time
	kicks  uint64
	parked bool          // the loop sleeps until a waiter leaves
	handed sync.Cond     // on pmu: the loop handed the duty over, or the device closed
	rxDone bool          // the device is closed: nobody reads
	wake   chan struct{} // wakes the loop while waiters have the duty (Close)
}

// Open attaches to TAP device name (creating it if absent) with the given MTU and the
// stack's MAC address, with checksum and segmentation offload, and starts the receive
// goroutine.
func Open(name string, mtu int, addr header.LinkAddr) (*Endpoint, error) {
	return open(name, mtu, addr, true)
}

// OpenPlain is Open without offloads: every frame is at most MTU bytes of IP with complete
// checksums.
func OpenPlain(name string, mtu int, addr header.LinkAddr) (*Endpoint, error) {
	return open(name, mtu, addr, false)
}

func open(name string, mtu int, addr header.LinkAddr, offload bool) (*Endpoint, error) {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ioctl := func(req, arg uintptr) error {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, arg); e != 0 {
			return e
		}
		return nil
	}
	var req ifreq
	copy(req.name[:15], name)
	req.flags = iffTap | iffNoPI
	if offload {
		req.flags |= iffVnetHdr
	}
	err = ioctl(tunSetIff, uintptr(unsafe.Pointer(&req)))
	if err == nil && offload {
		err = ioctl(tunSetOffload, tunFCsum|tunFTSO4|tunFTSO6)
	}
	if err == nil {
		err = syscall.SetNonblock(fd, true)
	}
	if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	e := &Endpoint{f: os.NewFile(uintptr(fd), "tap:"+name), mtu: mtu, addr: addr, offload: offload,
		done: make(chan struct{}), wake: make(chan struct{}, 1)}
	e.writev = e.writevFrame
	e.rc, err = e.f.SyscallConn()
	if err == nil {
		err = e.initRx()
	}
	if err != nil {
		e.f.Close()
		return nil, err
	}
	go e.readLoop()
	return e, nil
}

// Offloads: with the vnet header, Linux completes checksums and cuts TCP segments up to an
// IPv4 packet's size. Either way a frame's fragment is written where it lies (writev).
func (e *Endpoint) Offloads() link.Offloads {
	if !e.offload {
		return link.Offloads{Frags: true}
	}
	return link.Offloads{TxCsum: true, GSOMaxSize: header.IPv4MaxTotalLen, GSOv4: true, GSOv6: true, Frags: true}
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
	if e.offload {
		e.pushVnetHdr(p)
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if e.closed {
		return link.ErrClosed
	}
	head, frag := p.Parts()
	if len(frag) == 0 {
		_, err := e.f.Write(head)
		return err
	}
	// One frame from two places: Linux's tun takes a frame per write, whole or not at all.
	e.iov[0] = syscall.Iovec{Base: &head[0], Len: uint64(len(head))}
	e.iov[1] = syscall.Iovec{Base: &frag[0], Len: uint64(len(frag))}
	err := e.rc.Write(e.writev)
	e.iov = [2]syscall.Iovec{} // hold on to neither buffer
	if err == nil && e.werr != 0 {
		err = e.werr
	}
	return err
}

// writevFrame writes e.iov (wmu held), or asks the poller to wait when the device is full.
func (e *Endpoint) writevFrame(fd uintptr) bool {
	_, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&e.iov[0])), uintptr(len(e.iov)))
	for errno == syscall.EINTR {
		_, _, errno = syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&e.iov[0])), uintptr(len(e.iov)))
	}
	if errno == syscall.EAGAIN {
		return false
	}
	e.werr = errno
	return true
}

// pushVnetHdr puts the virtio_net_hdr for p's offloads in front of the frame.
func (e *Endpoint) pushVnetHdr(p *buffer.Packet) {
	o := p.Offload
	var h [vnetHdrLen]byte
	if o.CsumPartial {
		start := p.CsumStart()
		h[0] = vnetFlagNeedsCsum
		binary.LittleEndian.PutUint16(h[6:], uint16(start))
		binary.LittleEndian.PutUint16(h[8:], o.CsumOffset)
		if o.GSOType != buffer.GSONone {
			h[1] = vnetGSOTCPv4
			if o.GSOType == buffer.GSOTCPv6 {
				h[1] = vnetGSOTCPv6
			}
			binary.LittleEndian.PutUint16(h[2:], uint16(start+o.L4HdrLen)) // hdr_len
			binary.LittleEndian.PutUint16(h[4:], o.GSOSize)
		}
	}
	copy(p.Push(vnetHdrLen), h[:])
}

// deliver hands a batch to the dispatcher, or drops it before Attach.
func (e *Endpoint) deliver(ps []*buffer.Packet) {
	if len(ps) == 0 {
		return
	}
	e.mu.Lock()
	d := e.d
	e.mu.Unlock()
	if d == nil {
		for _, p := range ps {
			p.Release()
		}
		return
	}
	link.Deliver(d, ps)
}

// takeVnetHdr consumes a received frame's virtio_net_hdr into p.Offload. Linux fills in the
// header itself (tun_put_user), but it is checked as input all the same: a TCP segment
// larger than the MTU is taken as one (its IP length says how long it is), a partial
// checksum or a verified one is not checked again; anything else is refused.
func (e *Endpoint) takeVnetHdr(p *buffer.Packet) bool {
	h, ok := p.Consume(vnetHdrLen)
	if !ok {
		return false
	}
	switch h[1] &^ vnetGSOECN {
	case vnetGSONone, vnetGSOTCPv4, vnetGSOTCPv6:
	default:
		return false
	}
	p.Offload.CsumValid = h[0]&(vnetFlagNeedsCsum|vnetFlagDataValid) != 0
	return true
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
	e.pmu.Lock()
	e.rxDone = true
	e.handed.Broadcast()
	e.pmu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	<-e.done
	if errors.Is(err, os.ErrClosed) {
		err = nil
	}
	return err
}
