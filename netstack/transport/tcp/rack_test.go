package tcp

import (
	"testing"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/stack"
)

const ms = int64(time.Millisecond)

// rackEndpoint is an established endpoint with SACK and RACK on, n bytes queued and none
// sent, a 4 ms minimum RTT and SRTT.
func rackEndpoint(n int) *Endpoint {
	pr := &Protocol{s: stack.New(stack.Options{}), opts: Options{}}
	pr.opts.setDefaults()
	e := pr.newEndpoint()
	e.sackOK, e.mss, e.state = true, 1000, Established
	fillSndBuf(e, n)
	e.sndWnd, e.cwnd = 1<<20, 1<<20
	e.srtt, e.rttSampled, e.rto = 4*time.Millisecond, true, 200*time.Millisecond
	e.rack.minRTT = 4 * time.Millisecond
	return e
}

// sendAt records segments of 1000 bytes from SND.MAX, one per entry of times (ms).
func sendAt(e *Endpoint, times ...int64) {
	for _, t := range times {
		e.rackSent(e.sndMax, 1000, t*ms)
		e.sndMax += 1000
		e.sndNxt = e.sndMax
	}
}

func sack(e *Endpoint, now int64, a, z uint32) {
	bs := []header.TCPSACKBlock{{Start: a, End: z}}
	e.rackSacked(bs, now)
	e.sbUpdate(bs)
}

// One SACK above a hole: the hole is lost only after a quarter of the minimum RTT (the
// reordering window), and RACK says when to look again.
func TestRACKReorderingWindow(t *testing.T) {
	e := rackEndpoint(5000)
	const us = int64(time.Microsecond)
	for _, at := range []int64{100 * ms, 100*ms + 200*us, 100*ms + 400*us} {
		e.rackSent(e.sndMax, 1000, at)
		e.sndMax += 1000
	}
	sack(e, 105*ms, 1000, 2000) // the second segment arrived; the first not (yet)
	if e.rack.xmitAt != 100*ms+200*us || e.rack.rtt != 4800*time.Microsecond {
		t.Fatalf("RACK.xmit_ts %d rtt %v", e.rack.xmitAt, e.rack.rtt)
	}
	// The first was due 0.2 ms before the second's ACK, and may be 1 ms late.
	marked, wait := e.rackDetectLoss(105 * ms)
	if marked || wait != 800*time.Microsecond {
		t.Fatalf("marked %v wait %v", marked, wait)
	}
	if _, _, ok := e.rackLostSeg(); ok {
		t.Fatal("lost before the window passed")
	}
	if marked, _ = e.rackDetectLoss(106 * ms); !marked {
		t.Fatal("not lost after the window")
	}
	if s, n, ok := e.rackLostSeg(); !ok || s != 0 || n != 1000 {
		t.Fatalf("lost %d+%d %v", s, n, ok)
	}
	if e.isLost(2000) || !e.isLost(0) {
		t.Fatal("isLost")
	}
	// The third segment, sent after the delivered one, is not lost.
	if p := e.rackPipe(); p != 1000 {
		t.Fatalf("pipe %d, want the third segment only", p)
	}
}

// With more than DupThresh-1 segments SACKed and no reordering seen, the window is zero:
// the hole is lost at once (RACK then matches RFC 6675's rule).
func TestRACKNoWindowWhenLossIsClear(t *testing.T) {
	e := rackEndpoint(6000)
	sendAt(e, 100, 101, 102, 103, 104)
	sack(e, 106*ms, 1000, 4000)
	if w := e.rackReoWnd(); w != 0 {
		t.Fatalf("window %v", w)
	}
	if marked, _ := e.rackDetectLoss(106 * ms); !marked {
		t.Fatal("not lost")
	}
}

// A lost retransmission is found like any loss: once something sent after it is delivered
// and its own round trip has passed.
func TestRACKLostRetransmission(t *testing.T) {
	e := rackEndpoint(8000)
	sendAt(e, 100, 101, 102, 103)
	sack(e, 106*ms, 1000, 4000)
	e.rackDetectLoss(106 * ms)
	e.inRecovery = true
	// The retransmission of [0,1000) at 106, then new data at 107.
	e.rackSent(0, 1000, 106*ms)
	if _, _, ok := e.rackLostSeg(); ok {
		t.Fatal("still lost after being sent again")
	}
	if e.rack.rexmits != 1 || len(e.rack.recs) != 4 { // 3 SACKed originals + the retransmission
		t.Fatalf("records %+v", e.rack.recs)
	}
	sendAt(e, 107)
	sack(e, 112*ms, 4000, 5000) // the new segment arrived, the retransmission not
	if marked, _ := e.rackDetectLoss(112 * ms); !marked {
		t.Fatal("lost retransmission not found")
	}
	if s, n, ok := e.rackLostSeg(); !ok || s != 0 || n != 1000 {
		t.Fatalf("lost %d+%d %v", s, n, ok)
	}
}

// An ACK of a retransmission sooner than the minimum RTT is the original's: no sample.
func TestRACKSpuriousRetransmitNoSample(t *testing.T) {
	e := rackEndpoint(3000)
	sendAt(e, 100)
	e.rackSent(0, 1000, 102*ms) // retransmitted (a timeout, say)
	e.rackAcked(1000, 103*ms)   // 1 ms later: less than the 4 ms minimum
	if e.rack.xmitAt != 0 {
		t.Fatalf("sampled: xmit_ts %d", e.rack.xmitAt)
	}
	if len(e.rack.recs) != 0 || e.rack.rexmits != 0 {
		t.Fatalf("records left %+v", e.rack.recs)
	}
}

// Delivery below the highest delivered sequence of something sent once is reordering: the
// window then stays open even in recovery; a D-SACK widens it once per round trip.
func TestRACKReorderingAndDSACK(t *testing.T) {
	e := rackEndpoint(6000)
	sendAt(e, 100, 101, 102)
	sack(e, 106*ms, 2000, 3000)
	sack(e, 107*ms, 1000, 2000) // arrived after a later segment: reordered
	if !e.rack.reorderSeen || e.pr.stats.RACKReorderings != 1 {
		t.Fatal("reordering not seen")
	}
	e.inRecovery = true
	if w := e.rackReoWnd(); w != time.Millisecond {
		t.Fatalf("window %v, want a quarter of the 4 ms minimum RTT", w)
	}
	if !isDSACK([]header.TCPSACKBlock{{Start: 0, End: 1000}}, 1000) ||
		!isDSACK([]header.TCPSACKBlock{{Start: 1200, End: 1300}, {Start: 1000, End: 2000}}, 0) ||
		isDSACK([]header.TCPSACKBlock{{Start: 1000, End: 2000}, {Start: 3000, End: 4000}}, 0) {
		t.Fatal("isDSACK")
	}
	e.rackDSACK()
	e.rackDSACK() // same round trip: once
	if w := e.rackReoWnd(); w != 2*time.Millisecond || e.pr.stats.DSACKsRecv != 1 {
		t.Fatalf("window %v after a D-SACK", w)
	}
	e.srtt = 1500 * time.Microsecond
	if w := e.rackReoWnd(); w != e.srtt {
		t.Fatalf("window %v, want at most SRTT", w)
	}
	for range reoWndPersist {
		e.rackRecoveryEnded()
	}
	if e.rack.reoWndMult != 1 {
		t.Fatalf("multiplier %d after %d recoveries", e.rack.reoWndMult, reoWndPersist)
	}
}

// Records stay a partition of the unacknowledged bytes through splits, cuts and ACKs.
func TestRACKRecords(t *testing.T) {
	e := rackEndpoint(10000)
	e.rackSent(0, 8000, 100*ms) // one GSO packet
	e.sndMax = 8000
	sack(e, 105*ms, 3000, 5000) // its middle: three pieces
	if len(e.rack.recs) != 3 || !e.rack.recs[1].delivered || e.rack.recs[0].end != 3000 || e.rack.recs[2].start != 5000 {
		t.Fatalf("records %+v", e.rack.recs)
	}
	// The front piece is lost (sent at the same time, lower sequence), the back is not.
	e.rackDetectLoss(200 * ms)
	if !e.rack.recs[0].lost || e.rack.recs[2].lost {
		t.Fatalf("records %+v", e.rack.recs)
	}
	e.rackSent(1000, 1000, 201*ms) // part of the lost piece again: cut out of it
	want := [][2]uint32{{0, 1000}, {2000, 3000}, {3000, 5000}, {5000, 8000}, {1000, 2000}}
	if len(e.rack.recs) != len(want) {
		t.Fatalf("records %+v", e.rack.recs)
	}
	for i, w := range want {
		if x := e.rack.recs[i]; x.start != w[0] || x.end != w[1] {
			t.Fatalf("record %d = %+v, want %v", i, x, w)
		}
	}
	e.rackAcked(2500, 210*ms) // in sequence order no longer: every record is looked at
	e.sndUna = 2500
	for _, x := range e.rack.recs {
		if seqLT(x.start, 2500) {
			t.Fatalf("acknowledged bytes left: %+v", e.rack.recs)
		}
	}
	if e.rack.rexmits != 0 || len(e.rack.recs) != 3 {
		t.Fatalf("records %+v rexmits %d", e.rack.recs, e.rack.rexmits)
	}
}

// Tracking is bounded: contiguous new data joins the last record past half the bound, and a
// connection that still reaches it falls back to RFC 6675.
func TestRACKRecordsBounded(t *testing.T) {
	e := rackEndpoint(4 * maxTxRecs * 10)
	for i := range 2 * maxTxRecs {
		e.rackSent(e.sndMax, 10, int64(i))
		e.sndMax += 10
	}
	if n := len(e.rack.recs); n > maxTxRecs/2 || e.rack.off {
		t.Fatalf("%d records, off %v", n, e.rack.off)
	}
	// SACK every other record's bytes: splits would pass the bound.
	var bs []header.TCPSACKBlock
	for s := uint32(maxTxRecs / 2 * 10); seqLT(s, e.sndMax); s += 20 {
		bs = append(bs, header.TCPSACKBlock{Start: s, End: s + 10})
	}
	for i := 0; i < len(bs) && !e.rack.off; i += 4 {
		e.rackSacked(bs[i:min(i+4, len(bs))], int64(3*maxTxRecs))
	}
	if !e.rack.off || e.rackOn() || e.rack.recs != nil || e.pr.stats.RACKFallbacks != 1 {
		t.Fatalf("off %v, %d records", e.rack.off, len(e.rack.recs))
	}
}
