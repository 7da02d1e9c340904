package tcp

import (
	"time"

	"goxen/netstack/header"
)

// Timestamps (RFC 7323 3-5): negotiated on the SYN and SYN-ACK, then carried by every
// segment. TSval is a 1 ms clock with a random per-connection offset (RFC 7323 5.4, 7.1);
// TSecr echoes TS.Recent, the peer's TSval from the last segment that advanced the left
// edge of our window. ACKs of new data give RTT samples (RTTM, 4.1) and segments with a
// TSval older than TS.Recent are dropped (PAWS, 5), unless the connection was idle for
// more than 24 days, after which TS.Recent is no longer trusted.

const pawsIdle = 24 * 24 * time.Hour // RFC 7323 5.5

// tsOptionLen is the room timestamps take in every segment (with the two NOPs Linux uses).
const tsOptionLen = 12

func (e *Endpoint) tsNow() uint32 {
	return uint32(time.Since(e.pr.tsStart)/time.Millisecond) + e.tsOffset
}

// synTimestamps records a SYN's timestamp option; called once TSopt is agreed.
func (e *Endpoint) synTimestamps(s *segment) {
	e.tsRecent, e.tsRecentAt, e.tsRecentOK = s.opts.TSVal, timeNow(), true
}

// paws reports whether s fails the PAWS test (RFC 7323 5.3 R1) and must be dropped.
func (e *Endpoint) paws(s *segment) bool {
	if !e.tsOK || !s.opts.TS || !e.tsRecentOK || s.has(header.TCPFlagRST) {
		return false
	}
	if !seqLT(s.opts.TSVal, e.tsRecent) {
		return false
	}
	if timeNow().Sub(e.tsRecentAt) > pawsIdle {
		e.tsRecentOK = false // TS.Recent is too old to compare with (5.5)
		return false
	}
	return true
}

// updateTSRecent takes an acceptable segment's TSval as TS.Recent when it is not older and
// the segment starts at or before the last ACK we sent (RFC 7323 4.3).
func (e *Endpoint) updateTSRecent(s *segment) {
	if !e.tsOK || !s.opts.TS {
		return
	}
	if (!e.tsRecentOK || seqGE(s.opts.TSVal, e.tsRecent)) && seqLE(s.seq, e.lastAckSent) {
		e.tsRecent, e.tsRecentAt, e.tsRecentOK = s.opts.TSVal, timeNow(), true
	}
}

// tsRTT returns an RTT sample from the echoed timestamp of an ACK of new data (RTTM).
func (e *Endpoint) tsRTT(s *segment) (time.Duration, bool) {
	if !e.tsOK || !s.opts.TS || s.opts.TSEcr == 0 {
		return 0, false
	}
	d := int32(e.tsNow() - s.opts.TSEcr)
	if d < 0 {
		return 0, false // echoes a value we never sent
	}
	return time.Duration(d) * time.Millisecond, true
}
