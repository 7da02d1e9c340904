package tcp

import "time"

// reno is RFC 5681's congestion avoidance: cwnd grows by about one SMSS per round trip
// (SMSS*SMSS/cwnd per ACK, 3.1 equation 3) and halves on loss (equation 4).
type reno struct{}

func (*reno) avoid(e *Endpoint, acked int, now time.Time) {
	e.cwnd += max(1, e.mss*e.mss/e.cwnd)
}

func (*reno) ssthresh(e *Endpoint, now time.Time) int {
	return max(int(e.sndMax-e.sndUna)/2, 2*e.mss)
}
