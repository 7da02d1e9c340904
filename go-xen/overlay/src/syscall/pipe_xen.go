// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Pipes on xen: a bounded buffer in memory between a read end and a write end.
// A read of an empty pipe or a write to a full one parks the calling goroutine
// on a sync.Cond, never the vCPU, so a reader and a writer make progress on the
// one M (testing's example runner, os/exec-style plumbing inside one program).
// If every goroutine waits, the runtime reports the deadlock.

package syscall

import "sync"

// pipeBufSize is how many bytes a pipe holds before writers wait, as on Linux.
const pipeBufSize = 64 << 10

type pipe struct {
	mu         sync.Mutex
	changed    sync.Cond // broadcast on every change of buf or of the ends
	buf        []byte
	readerOpen bool
	writerOpen bool
}

// Pipe creates a pipe: fd[0] is its read end and fd[1] its write end.
func Pipe(fd []int) error {
	if len(fd) != 2 {
		return EINVAL
	}
	p := &pipe{readerOpen: true, writerOpen: true}
	p.changed.L = &p.mu
	fdMu.Lock()
	defer fdMu.Unlock()
	r, err := installFD(&openFile{ops: &pipeReader{p: p}, refs: 1})
	if err != nil {
		return err
	}
	w, err := installFD(&openFile{ops: &pipeWriter{p: p}, refs: 1})
	if err != nil {
		fds[r] = nil
		return err
	}
	fd[0], fd[1] = r, w
	return nil
}

type pipeReader struct {
	baseFile
	p *pipe
}

func (r *pipeReader) read(b []byte) (int, error) {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(b) == 0 {
		return 0, nil
	}
	for len(p.buf) == 0 && p.writerOpen {
		p.changed.Wait()
	}
	n := copy(b, p.buf)
	p.buf = p.buf[:copy(p.buf, p.buf[n:])]
	p.changed.Broadcast()
	return n, nil // n == 0: no writer left, end of file
}

func (r *pipeReader) fstat(st *Stat_t) error { pipeStat(st); return nil }

func (r *pipeReader) close() error {
	r.p.mu.Lock()
	r.p.readerOpen = false
	r.p.changed.Broadcast()
	r.p.mu.Unlock()
	return nil
}

type pipeWriter struct {
	baseFile
	p *pipe
}

func (w *pipeWriter) write(b []byte) (int, error) {
	p := w.p
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for len(b) > 0 {
		if !p.readerOpen {
			return n, EPIPE
		}
		room := pipeBufSize - len(p.buf)
		if room == 0 {
			p.changed.Wait()
			continue
		}
		k := min(room, len(b))
		p.buf = append(p.buf, b[:k]...)
		b = b[k:]
		n += k
		p.changed.Broadcast()
	}
	return n, nil
}

func (w *pipeWriter) fstat(st *Stat_t) error { pipeStat(st); return nil }

func (w *pipeWriter) close() error {
	w.p.mu.Lock()
	w.p.writerOpen = false
	w.p.changed.Broadcast()
	w.p.mu.Unlock()
	return nil
}

func pipeStat(st *Stat_t) {
	st.Mode = S_IFIFO | 0600
	st.Nlink = 1
	st.Blksize = pipeBufSize
}
