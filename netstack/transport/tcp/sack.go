package tcp

import "goxen/netstack/header"

// Receiver side of SACK (RFC 2018 4): while out-of-order data is queued, ACKs carry SACK
// blocks, the block holding the most recently received segment first, then the blocks
// reported most recently before it that still exist. The sender side is in recovery.go.

const maxSACKList = 4 // the most blocks that fit without timestamps

// noteDup records that a segment brought [start, end), data we already hold, to be reported
// as a D-SACK (RFC 2883): the first SACK block of the next ACK, which goes out at once, names
// the duplicate, once. Its sender learns that the retransmission was needless: Linux then
// undoes the congestion window cut and widens its reordering window, as rack.go does for the
// D-SACKs it receives. The latest duplicate wins.
func (e *Endpoint) noteDup(start, end uint32) {
	if e.sackOK && seqLT(start, end) {
		e.dsack, e.dsackOn = header.TCPSACKBlock{Start: start, End: end}, true
	}
}

// ackBlocks returns the SACK blocks for the next segment: a pending D-SACK first (then
// reported), then the out-of-order blocks; at most room blocks.
func (e *Endpoint) ackBlocks(room int) []header.TCPSACKBlock {
	if room <= 0 {
		return nil
	}
	if !e.dsackOn {
		return e.sackList[:min(room, len(e.sackList))]
	}
	e.dsackOn = false
	e.pr.stats.DSACKsSent++
	bs := append(append(e.sackOpt[:0], e.dsack), e.sackList...)
	return bs[:min(room, len(bs))]
}

// oooBlocks returns the out-of-order queue's contiguous ranges, lowest first.
func (e *Endpoint) oooBlocks() []header.TCPSACKBlock {
	var bs []header.TCPSACKBlock
	for _, o := range e.ooo {
		end := o.seq + uint32(len(o.data))
		if n := len(bs); n > 0 && seqLE(o.seq, bs[n-1].End) {
			if seqGT(end, bs[n-1].End) {
				bs[n-1].End = end
			}
			continue
		}
		if seqLT(o.seq, end) {
			bs = append(bs, header.TCPSACKBlock{Start: o.seq, End: end})
		}
	}
	return bs
}

// updateSACKList recomputes the blocks to report; recent, if set, is the sequence number of
// the segment just received out of order, whose block goes first.
func (e *Endpoint) updateSACKList(recent uint32, hasRecent bool) {
	if !e.sackOK {
		return
	}
	if len(e.ooo) == 0 {
		e.sackList = nil
		return
	}
	bs := e.oooBlocks()
	list := make([]header.TCPSACKBlock, 0, maxSACKList)
	add := func(x uint32) {
		for _, b := range bs {
			if seqLE(b.Start, x) && seqLT(x, b.End) {
				for _, l := range list {
					if l == b {
						return
					}
				}
				if len(list) < maxSACKList {
					list = append(list, b)
				}
				return
			}
		}
	}
	if hasRecent {
		add(recent)
	}
	for _, old := range e.sackList {
		add(old.Start)
	}
	// Blocks never reported (the list was full) follow, lowest first.
	for _, b := range bs {
		add(b.Start)
	}
	e.sackList = list
}
