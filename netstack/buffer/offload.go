package buffer

// Offload is what a link device does for the stack on one packet, in the terms both of the
// devices the stack runs on use: Linux's virtio_net_hdr (include/uapi/linux/virtio_net.h, a
// TAP with IFF_VNET_HDR) and Xen's netif (xen/include/public/io/netif.h: NETTXF_csum_blank,
// XEN_NETIF_EXTRA_TYPE_GSO; NETRXF_data_validated).
//
// On send, a transport layer fills it in and the device does the work: CsumPartial says the
// transport checksum holds only the pseudo-header sum (with the whole transport length) and
// the device completes it; GSOType says the packet is a TCP segment larger than the MTU that
// the device cuts into GSOSize-byte pieces (RFC 9293 segments, each with its own copy of the
// headers, its own IP length, ID and checksums; the FIN and PSH flags stay on the last
// piece). A device that offers neither never sees either: the stack completes checksums and
// cuts segments in software first (stack/gso.go).
//
// On receive, a device sets CsumValid when the transport checksum need not be verified:
// the device checked it, or the packet comes from the host itself with a partial checksum
// (the sender's half of CsumPartial); the stack then skips the check.
type Offload struct {
	GSOType GSOType
	GSOSize uint16 // payload bytes per piece (the connection's MSS)

	// CsumPartial: the transport checksum field holds the pseudo-header sum; the bytes to
	// sum are the last L4Len bytes of the packet (the transport header and payload), and
	// the field is CsumOffset bytes into them.
	CsumPartial bool
	L4Len       int
	CsumOffset  uint16
	// L4HdrLen is the transport header's length (options included) for a GSO packet: every
	// piece carries a copy.
	L4HdrLen int

	CsumValid bool
}

// GSOType names the segmentation a device is asked to do.
type GSOType uint8

const (
	GSONone GSOType = iota
	GSOTCPv4
	GSOTCPv6
)

// CsumStart returns where the bytes covered by a partial checksum start in the packet as it
// is now (after the lower layers pushed their headers).
func (p *Packet) CsumStart() int { return p.Len() - p.Offload.L4Len }

// ReceivedLocally turns a sent packet's offload state into a received one's, for a packet
// the stack delivers to itself: a partial checksum was never completed, and need not be.
func (o *Offload) ReceivedLocally() {
	*o = Offload{CsumValid: o.CsumPartial}
}
