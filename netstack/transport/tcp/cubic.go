package tcp

import (
	"math"
	"time"
)

// CUBIC congestion control (RFC 9438). Windows are in segments of the sender MSS here, as
// in the RFC; time in seconds.
const (
	cubicC    = 0.4 // RFC 9438 4.1 (segments/s^3)
	cubicBeta = 0.7 // multiplicative decrease factor (4.6)
)

type cubic struct {
	wMax      float64   // window before the last reduction (4.1), after fast convergence (4.7)
	prior     float64   // cwnd when the last congestion event happened (cwnd_prior)
	k         float64   // time to reach wMax from the epoch's start (eq. 2)
	epoch     time.Time // start of the current congestion avoidance stage; zero: not begun
	cwndEpoch float64
	wEst      float64 // the Reno-friendly estimate (4.3)
	frac      float64 // fractional bytes of increase not yet applied
}

// w is W_cubic(t), equation 1.
func (c *cubic) w(t float64) float64 {
	d := t - c.k
	return cubicC*d*d*d + c.wMax
}

func (c *cubic) avoid(e *Endpoint, acked int, now time.Time) {
	mss := float64(e.mss)
	cw := float64(e.cwnd) / mss
	if c.epoch.IsZero() {
		// A new congestion avoidance stage (4.2): K from the window it starts at. With no
		// loss yet, or a window already past wMax, the curve starts at its plateau.
		c.epoch, c.cwndEpoch, c.wEst = now, cw, cw
		if c.wMax <= cw {
			c.wMax, c.k = cw, 0
		} else {
			c.k = math.Cbrt((c.wMax - cw) / cubicC)
		}
	}
	t := now.Sub(c.epoch).Seconds()
	// W_est grows as Reno with an equivalent alpha (4.3), 1 once past cwnd_prior.
	alpha := 3 * (1 - cubicBeta) / (1 + cubicBeta)
	if c.wEst >= c.prior {
		alpha = 1
	}
	c.wEst += alpha * (float64(acked) / mss) / cw
	var inc float64 // bytes
	if c.w(t) < c.wEst {
		inc = (c.wEst - cw) * mss // Reno-friendly region: cwnd = W_est
	} else {
		// Concave and convex regions (4.4, 4.5): aim at W_cubic one RTT ahead, bounded to
		// [cwnd, 1.5 cwnd], closing (target-cwnd)/cwnd per acked segment.
		target := c.w(t + e.srtt.Seconds())
		target = min(max(target, cw), 1.5*cw)
		inc = (target - cw) / cw * float64(acked)
	}
	if inc <= 0 {
		return
	}
	c.frac += inc
	n := int(c.frac)
	c.frac -= float64(n)
	e.cwnd += n
}

func (c *cubic) ssthresh(e *Endpoint, now time.Time) int {
	cw := float64(e.cwnd) / float64(e.mss)
	c.prior = cw
	if cw < c.wMax {
		c.wMax = cw * (1 + cubicBeta) / 2 // fast convergence (4.7)
	} else {
		c.wMax = cw
	}
	c.epoch = time.Time{}
	c.frac = 0
	return int(cw * cubicBeta * float64(e.mss)) // 4.6
}
