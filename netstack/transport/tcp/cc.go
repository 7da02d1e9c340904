package tcp

import "time"

// congestionControl is the window-growth and window-reduction half of congestion control;
// slow start (RFC 5681 3.1) and loss recovery (recovery.go: NewReno per RFC 6582, SACK per
// RFC 6675) are shared. Implementations: reno.go (RFC 5681) and cubic.go (RFC 9438), chosen
// with Options.CongestionControl. Methods run with Protocol.mu held.
type congestionControl interface {
	// avoid grows cwnd in congestion avoidance for an ACK of acked new bytes.
	avoid(e *Endpoint, acked int, now time.Time)
	// ssthresh returns the slow-start threshold after a congestion event (loss detected by
	// duplicate ACKs or SACK, or a timeout) and resets the algorithm's epoch.
	ssthresh(e *Endpoint, now time.Time) int
}

// Congestion control names for Options.CongestionControl.
const (
	CCCubic   = "cubic"
	CCReno    = "reno"
	defaultCC = CCCubic
)

func newCC(name string) congestionControl {
	if name == CCReno {
		return &reno{}
	}
	return &cubic{}
}

// growCwnd opens the window for an ACK of acked new bytes outside recovery: slow start
// below ssthresh (RFC 5681 3.1, at most one SMSS per ACK), else the algorithm's congestion
// avoidance.
func (e *Endpoint) growCwnd(acked int) {
	if e.cwnd < e.ssthresh {
		e.cwnd += min(acked, e.mss)
		return
	}
	e.cc.avoid(e, acked, timeNow())
}

// congestionEvent lowers ssthresh for a loss and returns it.
func (e *Endpoint) congestionEvent() int {
	e.ssthresh = max(e.cc.ssthresh(e, timeNow()), 2*e.mss)
	return e.ssthresh
}
