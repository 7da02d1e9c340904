package main

import (
	"container/list"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// itemOverhead is what an item costs beyond its key and value when the store counts its
// memory against the limit: the item struct (80 bytes with its size class), its list element
// (48), its map slot with the map's spare capacity (~40) and the size-class rounding of the
// key and value. Measured on amd64 with 100k items: 172 bytes (10-byte values) to 190
// (1000-byte values) of live heap beyond key and value.
const itemOverhead = 176

// relativeLimit: an exptime up to 30 days is relative to now, a larger one is a Unix time
// (memcached's rule).
const relativeLimit = 60 * 60 * 24 * 30

type item struct {
	key     string
	value   []byte
	flags   uint32
	exptime int64 // Unix seconds; 0 never expires
	cas     uint64
	stored  int64 // Unix nanoseconds when stored, for flush_all with a delay
}

func (it *item) size() int64 { return int64(len(it.key)+len(it.value)) + itemOverhead }

// Store is an in-memory key-value store with memcached's semantics, an LRU list and a memory
// limit. It is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	items    map[string]*list.Element // of *item
	lru      *list.List               // front: most recently used
	bytes    int64
	limit    int64
	itemMax  int
	casNext  uint64
	flushAt  int64 // Unix ns; items stored before flushAt are invalid once now >= flushAt
	now      func() time.Time
	started  time.Time
	counters map[string]uint64
}

// NewStore returns a store holding at most limit bytes (items cost itemOverhead beyond key and
// value) with values of at most itemMax bytes.
func NewStore(limit int64, itemMax int, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{items: map[string]*list.Element{}, lru: list.New(), limit: limit,
		itemMax: itemMax, now: now, started: now(), counters: map[string]uint64{}}
}

func (s *Store) count(name string) { s.counters[name]++ }

// expiry converts a protocol exptime into an absolute Unix time (0: never; -1: already).
func (s *Store) expiry(exptime int64) int64 {
	switch {
	case exptime == 0:
		return 0
	case exptime < 0:
		return -1
	case exptime <= relativeLimit:
		return s.now().Unix() + exptime
	default:
		return exptime
	}
}

// lookup returns the live item for key, removing it if it has expired or was flushed.
// The caller holds s.mu.
func (s *Store) lookup(key string) *item {
	e, ok := s.items[key]
	if !ok {
		return nil
	}
	it := e.Value.(*item)
	now := s.now().Unix()
	if (it.exptime != 0 && it.exptime <= now) || (s.flushAt != 0 && s.now().UnixNano() >= s.flushAt && it.stored < s.flushAt) {
		s.remove(e)
		return nil
	}
	return it
}

func (s *Store) remove(e *list.Element) {
	it := e.Value.(*item)
	s.lru.Remove(e)
	delete(s.items, it.key)
	s.bytes -= it.size()
}

// put stores it, replacing any old item for its key and evicting least recently used items
// until it fits. It reports false when the item can never fit. The caller holds s.mu.
func (s *Store) put(it *item) bool {
	if it.size() > s.limit {
		return false
	}
	if e, ok := s.items[it.key]; ok {
		s.remove(e)
	}
	for s.bytes+it.size() > s.limit {
		e := s.lru.Back()
		if e == nil {
			return false
		}
		s.remove(e)
		s.count("evictions")
	}
	s.casNext++
	it.cas = s.casNext
	it.stored = s.now().UnixNano()
	s.items[it.key] = s.lru.PushFront(it)
	s.bytes += it.size()
	s.count("total_items")
	return true
}

// Result of a storage command, as the protocol's reply line.
type Result string

const (
	Stored    Result = "STORED"
	NotStored Result = "NOT_STORED"
	Exists    Result = "EXISTS"
	NotFound  Result = "NOT_FOUND"
	TooLarge  Result = "SERVER_ERROR object too large for cache"
	NoMemory  Result = "SERVER_ERROR out of memory storing object"
)

// Store runs a storage command: set, add, replace, append, prepend or cas (casID used only by cas).
func (s *Store) Store(cmd, key string, flags uint32, exptime int64, value []byte, casID uint64) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("cmd_set")
	if len(value) > s.itemMax {
		return TooLarge
	}
	old := s.lookup(key)
	it := &item{key: key, value: value, flags: flags, exptime: s.expiry(exptime)}
	switch cmd {
	case "add":
		if old != nil {
			s.lru.MoveToFront(s.items[key]) // memcached bumps the existing item
			return NotStored
		}
	case "replace":
		if old == nil {
			return NotStored
		}
	case "append", "prepend":
		if old == nil {
			return NotStored
		}
		v := make([]byte, 0, len(old.value)+len(value))
		if cmd == "append" {
			v = append(append(v, old.value...), value...)
		} else {
			v = append(append(v, value...), old.value...)
		}
		if len(v) > s.itemMax {
			return TooLarge
		}
		it = &item{key: key, value: v, flags: old.flags, exptime: old.exptime}
	case "cas":
		if old == nil {
			s.count("cas_misses")
			return NotFound
		}
		if old.cas != casID {
			s.count("cas_badval")
			return Exists
		}
		s.count("cas_hits")
	}
	if it.exptime < 0 { // stored already expired: succeeds, then is gone
		if old != nil {
			s.remove(s.items[key])
		}
		return Stored
	}
	if !s.put(it) {
		return NoMemory
	}
	return Stored
}

// Get returns a copy of the item for key and whether it exists, counting a hit or a miss.
func (s *Store) Get(key string) (value []byte, flags uint32, cas uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("cmd_get")
	it := s.lookup(key)
	if it == nil {
		s.count("get_misses")
		return nil, 0, 0, false
	}
	s.count("get_hits")
	s.lru.MoveToFront(s.items[key])
	return it.value, it.flags, it.cas, true
}

// Delete removes key and reports whether it existed.
func (s *Store) Delete(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookup(key) == nil {
		s.count("delete_misses")
		return false
	}
	s.remove(s.items[key])
	s.count("delete_hits")
	return true
}

// Touch sets a new exptime for key and reports whether it existed.
func (s *Store) Touch(key string, exptime int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("cmd_touch")
	it := s.lookup(key)
	if it == nil {
		s.count("touch_misses")
		return false
	}
	s.count("touch_hits")
	it.exptime = s.expiry(exptime)
	s.lru.MoveToFront(s.items[key])
	if it.exptime < 0 {
		s.remove(s.items[key])
	}
	return true
}

// ErrNonNumeric is returned by IncrDecr for a value that is not a decimal number.
type incrError string

func (e incrError) Error() string { return string(e) }

const ErrNonNumeric = incrError("CLIENT_ERROR cannot increment or decrement non-numeric value")

// IncrDecr adds (incr) or subtracts (decr, stopping at 0) delta; incr wraps at 2^64.
func (s *Store) IncrDecr(incr bool, key string, delta uint64) (uint64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := "decr"
	if incr {
		name = "incr"
	}
	it := s.lookup(key)
	if it == nil {
		s.count(name + "_misses")
		return 0, false, nil
	}
	n, err := strconv.ParseUint(string(trimRightSpace(it.value)), 10, 64)
	if err != nil || len(it.value) == 0 {
		return 0, true, ErrNonNumeric
	}
	s.count(name + "_hits")
	if incr {
		n += delta
	} else if delta > n {
		n = 0
	} else {
		n -= delta
	}
	nv := []byte(strconv.FormatUint(n, 10))
	for len(nv) < len(it.value) { // memcached rewrites a shorter number in place, space-padded
		nv = append(nv, ' ')
	}
	s.bytes += int64(len(nv) - len(it.value))
	it.value = nv
	s.casNext++
	it.cas = s.casNext
	s.lru.MoveToFront(s.items[key])
	for s.bytes > s.limit && s.lru.Back() != s.lru.Front() {
		s.remove(s.lru.Back())
		s.count("evictions")
	}
	return n, true, nil
}

func trimRightSpace(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

// Flush invalidates every item now (delay 0) or delay seconds from now.
func (s *Store) Flush(delay int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("cmd_flush")
	if delay <= 0 {
		s.items = map[string]*list.Element{}
		s.lru.Init()
		s.bytes = 0
		s.flushAt = 0
		return
	}
	s.flushAt = s.expiry(delay) * int64(time.Second)
}

// Count adds one to a named counter (connection and protocol counters live here too).
func (s *Store) Count(name string, delta int) {
	s.mu.Lock()
	s.counters[name] += uint64(delta)
	s.mu.Unlock()
}

// ResetStats zeroes the counters that `stats reset` clears.
func (s *Store) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters = map[string]uint64{"curr_connections": s.counters["curr_connections"],
		"max_connections": s.counters["max_connections"]}
}

// StatNames lists the general statistics in the order `stats` prints them.
var StatNames = []string{
	"pid", "uptime", "time", "version", "pointer_size", "max_connections", "curr_connections",
	"total_connections", "rejected_connections", "idle_kicks",
	"cmd_get", "cmd_set", "cmd_flush", "cmd_touch", "get_hits", "get_misses", "get_expired",
	"delete_misses", "delete_hits", "incr_misses", "incr_hits", "decr_misses", "decr_hits",
	"cas_misses", "cas_hits", "cas_badval", "touch_hits", "touch_misses", "bytes_read",
	"bytes_written", "limit_maxbytes", "threads", "bytes", "curr_items", "total_items",
	"evictions",
}

// Stats returns the general statistics as name, value pairs in StatNames order.
func (s *Store) Stats(pid int, version string) [][2]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([][2]string, 0, len(StatNames))
	for _, name := range StatNames {
		var v string
		switch name {
		case "pid":
			v = strconv.Itoa(pid)
		case "uptime":
			v = strconv.FormatInt(int64(now.Sub(s.started)/time.Second), 10)
		case "time":
			v = strconv.FormatInt(now.Unix(), 10)
		case "version":
			v = version
		case "pointer_size":
			v = "64"
		case "limit_maxbytes":
			v = strconv.FormatInt(s.limit, 10)
		case "threads": // memcached's worker threads; here the Ps that run the handlers
			v = strconv.Itoa(runtime.GOMAXPROCS(0))
		case "bytes":
			v = strconv.FormatInt(s.bytes, 10)
		case "curr_items":
			v = strconv.Itoa(len(s.items))
		default:
			v = strconv.FormatUint(s.counters[name], 10)
		}
		out = append(out, [2]string{name, v})
	}
	return out
}
