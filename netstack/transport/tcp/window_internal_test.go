package tcp

import "testing"

// TestWindowUpdateRule: after a read, a window update goes out only when the peer sees at
// most half the buffer open and the window at least doubles to half the buffer or more; a
// window closed behind a slow reader does not reopen one read at a time.
func TestWindowUpdateRule(t *testing.T) {
	c, _, _ := connected(t)
	const k = 1 << 10
	for _, tc := range []struct {
		name           string
		buf, adv, held int // the window's ceiling, what the peer sees, bytes unread
		send           bool
	}{
		{"closed, one read free", 320 * k, 0, 288 * k, false},
		{"closed, half free", 320 * k, 0, 160 * k, true},
		{"below one segment, half free", 320 * k, 1 * k, 150 * k, true},
		{"peer sees more than half", 320 * k, 200 * k, 0, false},
		{"peer sees 100K, now 320K", 320 * k, 100 * k, 0, true},
		{"peer sees 100K, now 180K", 320 * k, 100 * k, 140 * k, false},
		{"small buffer, closed, half free", 4 * k, 0, 2 * k, true},
		{"small buffer, closed, a quarter free", 4 * k, 0, 3 * k, false},
	} {
		pr := c.pr
		pr.mu.Lock()
		c.rcvScale, c.rcvBufCur = 0, tc.buf
		c.rcvBuf.Reset(pr.s.Budget())
		if got := c.rcvBuf.AppendPromised(make([]byte, tc.held), tc.buf, pr.s.Budget()); got != tc.held {
			t.Fatalf("%s: queued %d of %d bytes", tc.name, got, tc.held)
		}
		c.rcvAdv = c.rcvNxt + uint32(tc.adv)
		now := c.rcvWindow()
		before := len(pr.outq)
		c.windowUpdate()
		sent := len(pr.outq) > before
		if sent {
			if h, _ := lastSent(t, c); int(h.Window()) < min(tc.buf/2, 65535) {
				t.Errorf("%s: announced %d", tc.name, h.Window())
			}
		}
		c.rcvBuf.Reset(pr.s.Budget())
		pr.mu.Unlock()
		if sent != tc.send {
			t.Errorf("%s: window update sent %v, want %v (window now %d)", tc.name, sent, tc.send, now)
		}
	}
}
