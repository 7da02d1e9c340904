package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Version is what the `version` command and `stats` report.
const Version = "1.6.0-goxen-kvstore"

const (
	maxKeyLen  = 250
	maxLineLen = 64 * 1024 // a get with many keys still fits
)

var errQuit = errors.New("quit")

// session speaks the memcached text protocol over one stream: a TCP connection, or the payload
// of one UDP request. Errors in one request answer ERROR / CLIENT_ERROR / SERVER_ERROR and
// the session goes on with the next request.
type session struct {
	store *Store
	in    io.Reader
	out   io.Writer
	r     *bufio.Reader // from readers while a request is read; nil while waiting for one
	w     *bufio.Writer // from writers while answering
	pid   int
	next  prefixReader // a request's first bytes, read while no buffer was held, then in
	first [512]byte    // holds them: most requests whole
}

// A connection holds its buffers only while it has a request to read and answer: between
// requests it waits with a 512-byte array (memcached shrinks an idle connection's buffers
// too), so an idle connection costs its goroutine and its socket, and a UDP request no
// buffer of its own. They are small because every connection may wake at once (6,500 idle
// connections in 128 MB each sending a request ran the heap out with 16 KiB writers): a
// line longer than the reader is read in pieces (readLine), a data block or a value larger
// than a buffer goes around it.
const (
	readBufSize  = 2 << 10
	writeBufSize = 4 << 10
)

var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufSize) }}
)

func newSession(store *Store, r io.Reader, w io.Writer, pid int) *session {
	return &session{store: store, in: r, out: w, pid: pid}
}

// prefixReader reads buf, then err if set, then r.
type prefixReader struct {
	buf []byte
	err error
	r   io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	if p.err != nil {
		return 0, p.err
	}
	return p.r.Read(b)
}

// serve handles requests until EOF, a read error or quit, flushing replies whenever no
// further request is already buffered (so pipelined requests are answered in one write).
func (s *session) serve() error {
	defer s.release()
	for {
		if s.r == nil {
			n, err := s.in.Read(s.first[:])
			if n == 0 {
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				continue
			}
			s.next = prefixReader{buf: s.first[:n], err: err, r: s.in}
			s.r = readers.Get().(*bufio.Reader)
			s.r.Reset(&s.next)
			s.w = writers.Get().(*bufio.Writer)
			s.w.Reset(s.out)
		}
		err := s.one()
		if s.r.Buffered() == 0 || err != nil {
			if ferr := s.w.Flush(); ferr != nil && err == nil {
				err = ferr
			}
			if len(s.next.buf) == 0 && s.next.err == nil {
				s.release() // nothing read ahead: wait for the next request without buffers
			}
		}
		if err != nil {
			if err == errQuit || err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// release returns the session's buffers to their pools.
func (s *session) release() {
	if s.r != nil {
		s.r.Reset(nil)
		readers.Put(s.r)
		s.r = nil
	}
	if s.w != nil {
		s.w.Reset(nil)
		writers.Put(s.w)
		s.w = nil
	}
	s.next = prefixReader{}
}

// readLine returns one request line without its line end; an over-long line is discarded
// up to its end and reported with tooLong.
func (s *session) readLine() (line string, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(buf)+len(chunk) <= maxLineLen {
			buf = append(buf, chunk...)
		} else {
			tooLong = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(buf) > 0 && !tooLong {
				err = io.ErrUnexpectedEOF
			}
			return "", tooLong, err
		}
		break
	}
	s.store.Count("bytes_read", len(buf))
	buf = bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r"))
	return string(buf), tooLong, nil
}

func (s *session) reply(lines ...string) {
	for _, l := range lines {
		s.w.WriteString(l)
		s.w.WriteString("\r\n")
		s.store.Count("bytes_written", len(l)+2)
	}
}

const badFormat = "CLIENT_ERROR bad command line format"

func validKey(k string) bool {
	if len(k) == 0 || len(k) > maxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] == 0x7f {
			return false
		}
	}
	return true
}

// noreply strips a trailing "noreply" token and reports whether it was there.
func noreply(f []string) ([]string, bool) {
	if len(f) > 0 && f[len(f)-1] == "noreply" {
		return f[:len(f)-1], true
	}
	return f, false
}

// one handles one request.
func (s *session) one() error {
	line, tooLong, err := s.readLine()
	if err == io.ErrUnexpectedEOF {
		return io.EOF
	}
	if err != nil {
		return err
	}
	if tooLong {
		s.reply("CLIENT_ERROR line too long")
		return nil
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		s.reply("ERROR")
		return nil
	}
	cmd, args := f[0], f[1:]
	switch cmd {
	case "get", "gets":
		return s.get(cmd == "gets", args)
	case "set", "add", "replace", "append", "prepend", "cas":
		return s.storage(cmd, args)
	case "delete":
		args, quiet := noreply(args)
		if len(args) == 2 && args[1] == "0" {
			args = args[:1]
		}
		if len(args) != 1 {
			s.reply("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]")
			return nil
		}
		if !validKey(args[0]) {
			s.reply(badFormat)
			return nil
		}
		res := "NOT_FOUND"
		if s.store.Delete(args[0]) {
			res = "DELETED"
		}
		if !quiet {
			s.reply(res)
		}
	case "incr", "decr":
		args, quiet := noreply(args)
		if len(args) != 2 || !validKey(args[0]) {
			s.reply("ERROR")
			return nil
		}
		delta, err := strconv.ParseUint(args[1], 10, 64)
		if err != nil {
			s.reply("CLIENT_ERROR invalid numeric delta argument")
			return nil
		}
		n, ok, err := s.store.IncrDecr(cmd == "incr", args[0], delta)
		switch {
		case quiet:
		case err != nil:
			s.reply(err.Error())
		case !ok:
			s.reply("NOT_FOUND")
		default:
			s.reply(strconv.FormatUint(n, 10))
		}
	case "touch":
		args, quiet := noreply(args)
		if len(args) != 2 || !validKey(args[0]) {
			s.reply("ERROR")
			return nil
		}
		exp, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			s.reply("CLIENT_ERROR invalid exptime argument")
			return nil
		}
		res := "NOT_FOUND"
		if s.store.Touch(args[0], exp) {
			res = "TOUCHED"
		}
		if !quiet {
			s.reply(res)
		}
	case "flush_all":
		args, quiet := noreply(args)
		var delay int64
		if len(args) > 1 {
			s.reply("ERROR")
			return nil
		}
		if len(args) == 1 {
			d, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				s.reply("CLIENT_ERROR invalid exptime argument")
				return nil
			}
			delay = d
		}
		s.store.Flush(delay)
		if !quiet {
			s.reply("OK")
		}
	case "stats":
		switch {
		case len(args) == 0:
			for _, kv := range s.store.Stats(s.pid, Version) {
				s.reply("STAT " + kv[0] + " " + kv[1])
			}
			for _, kv := range MemStats() {
				s.reply("STAT " + kv[0] + " " + kv[1])
			}
			s.reply("END")
		case len(args) == 1 && args[0] == "netstack":
			for _, kv := range NetstackStats() {
				s.reply("STAT " + kv[0] + " " + kv[1])
			}
			s.reply("END")
		case len(args) == 1 && args[0] == "reset":
			s.store.ResetStats()
			s.reply("RESET")
		default:
			s.reply("ERROR")
		}
	case "version":
		s.reply("VERSION " + Version)
	case "verbosity":
		args, quiet := noreply(args) // memcached reads the level and ignores further words
		switch {
		case len(args) == 0 && !quiet:
			s.reply("ERROR")
		case quiet: // even "verbosity noreply" answers nothing
		default:
			if _, err := strconv.ParseUint(args[0], 10, 32); err != nil {
				s.reply(badFormat)
			} else {
				s.reply("OK")
			}
		}
	case "quit":
		return errQuit
	default:
		s.reply("ERROR")
	}
	return nil
}

func (s *session) get(withCas bool, keys []string) error {
	if len(keys) == 0 {
		s.reply("ERROR")
		return nil
	}
	for _, k := range keys {
		if !validKey(k) {
			s.reply(badFormat)
			return nil
		}
	}
	for _, k := range keys {
		v, flags, cas, ok := s.store.Get(k)
		if !ok {
			continue
		}
		head := "VALUE " + k + " " + strconv.FormatUint(uint64(flags), 10) + " " + strconv.Itoa(len(v))
		if withCas {
			head += " " + strconv.FormatUint(cas, 10)
		}
		s.reply(head)
		s.w.Write(v)
		s.reply("")
		s.store.Count("bytes_written", len(v))
	}
	s.reply("END")
	return nil
}

// storage handles set/add/replace/append/prepend/cas: `<cmd> <key> <flags> <exptime> <bytes>
// [<cas unique>] [noreply]` followed by a data block of <bytes> bytes and \r\n.
func (s *session) storage(cmd string, args []string) error {
	args, quiet := noreply(args)
	want := 4
	if cmd == "cas" {
		want = 5
	}
	if len(args) != want {
		s.reply("ERROR")
		return nil
	}
	key := args[0]
	flags, err1 := strconv.ParseUint(args[1], 10, 32)
	exptime, err2 := strconv.ParseInt(args[2], 10, 64)
	n, err3 := strconv.ParseInt(args[3], 10, 32)
	var casID uint64
	var err4 error
	if cmd == "cas" {
		casID, err4 = strconv.ParseUint(args[4], 10, 64)
	}
	if !validKey(key) || err1 != nil || err2 != nil || err3 != nil || err4 != nil || n < 0 {
		s.reply(badFormat)
		return nil
	}
	// A data block that is too large is answered at once, as memcached does, and then
	// swallowed: the client sent it, and the bytes after it are the next request.
	if n > int64(s.store.itemMax) {
		if !quiet {
			s.reply(string(TooLarge))
			if err := s.w.Flush(); err != nil {
				return err
			}
		}
		if _, err := io.CopyN(io.Discard, s.r, n+2); err != nil {
			return io.EOF
		}
		return nil
	}
	data, err := readBlock(s.r, int(n)+2)
	if err != nil {
		return io.EOF
	}
	s.store.Count("bytes_read", len(data))
	if data[n] != '\r' || data[n+1] != '\n' {
		s.reply("CLIENT_ERROR bad data chunk")
		return nil
	}
	res := s.store.Store(cmd, key, uint32(flags), exptime, data[:n], casID)
	if !quiet { // memcached's noreply silences errors too
		s.reply(string(res))
	}
	return nil
}

// blockChunk is how much of a data block is allocated before its bytes arrive.
const blockChunk = 64 << 10

// readBlock reads a data block of n bytes into a slice of exactly n (the store keeps it: a
// larger backing array would be kept too, five times the memory for 100-byte values). A block
// up to blockChunk is allocated at once; a larger one grows a chunk at a time as its data
// arrives, so a client that announces a large value and sends nothing holds no more than
// one chunk more than it sent.
func readBlock(r io.Reader, n int) ([]byte, error) {
	if n <= blockChunk {
		data := make([]byte, n)
		_, err := io.ReadFull(r, data)
		return data, err
	}
	var block bytes.Buffer
	for block.Len() < n {
		block.Grow(min(blockChunk, n-block.Len()))
		if _, err := io.CopyN(&block, r, int64(min(blockChunk, n-block.Len()))); err != nil {
			return nil, err
		}
	}
	data := make([]byte, n)
	copy(data, block.Bytes())
	return data, nil
}
