package tcp

// Undelivered returns how many bytes the protocol's connections still have to deliver:
// data queued or sent but not yet acknowledged, plus one for a FIN not yet acknowledged,
// connections the user already closed included. A guest that ends with its program
// (GOOS=xen) waits for this to reach zero before it powers off.
func (p *Protocol) Undelivered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.conns {
		switch e.state {
		case Established, CloseWait, FinWait1, Closing, LastAck:
		default:
			continue
		}
		n += e.sndBuf.Len()
		if e.finQueued && e.sndUna != e.finSeq+1 {
			n++
		}
	}
	return n
}
