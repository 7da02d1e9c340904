package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// contentTypes are the site's types by extension; the table is the server's own so that the
// answer does not depend on the host's mime database (Xen has none).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
	".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
	".xml": "application/xml", ".svg": "image/svg+xml", ".png": "image/png",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
	".ico": "image/vnd.microsoft.icon", ".wasm": "application/wasm", ".pdf": "application/pdf",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
}

// ContentType returns the type for name's extension, application/octet-stream if unknown.
func ContentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/json") ||
		strings.HasPrefix(ctype, "application/xml") || strings.HasPrefix(ctype, "image/svg") ||
		strings.HasPrefix(ctype, "application/wasm")
}

// minGzip: smaller files are sent as they are.
const minGzip = 256

// file is one site file as served: its bytes, a strong ETag from its content, and its gzip
// form when compressing pays.
type file struct {
	data    []byte
	gz      []byte
	etag    string
	ctype   string
	modTime time.Time
}

// Site serves a file tree and /api/stats.
type Site struct {
	fsys    fs.FS
	started time.Time
	mu      sync.Mutex
	cache   map[string]*file
	loadMu  sync.Mutex // one file is read and compressed at a time (see load)

	requests, bytesSent, notModified, partial, gzipped atomic.Int64
	statusMu                                           sync.Mutex
	status                                             map[int]int64
}

func NewSite(fsys fs.FS) *Site {
	return &Site{fsys: fsys, started: time.Now(), cache: map[string]*file{}, status: map[int]int64{}}
}

// load returns the file at name (a clean fs path), reading it on first use and again when its
// size or modification time changes.
func (s *Site) load(name string) (*file, error) {
	fi, err := fs.Stat(s.fsys, name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fs.ErrInvalid
	}
	if f := s.cached(name, fi); f != nil {
		return f, nil
	}
	// A miss reads the file and gzips it (a compressor at BestCompression takes ~1 MB): one at
	// a time, so that many clients asking for the same new file at once cause one load, not
	// one each (16 parallel first requests ran a 24 MB guest out of memory).
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if f := s.cached(name, fi); f != nil {
		return f, nil
	}
	data, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	f := &file{data: data, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: ContentType(name), modTime: fi.ModTime()}
	if len(data) >= minGzip && compressible(f.ctype) {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		if b.Len() < len(data) {
			f.gz = b.Bytes()
		}
	}
	s.mu.Lock()
	s.cache[name] = f
	s.mu.Unlock()
	return f, nil
}

// cached returns the cached copy of name if it is still the file fi describes, else nil.
func (s *Site) cached(name string, fi fs.FileInfo) *file {
	s.mu.Lock()
	f := s.cache[name]
	s.mu.Unlock()
	if f != nil && f.modTime.Equal(fi.ModTime()) && int64(len(f.data)) == fi.Size() {
		return f
	}
	return nil
}

// acceptsGzip reports whether the Accept-Encoding header allows gzip (q > 0).
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := strings.TrimSpace(params)
		if v, ok := strings.CutPrefix(q, "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w}
	s.serve(cw, r)
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	s.requests.Add(1)
	s.bytesSent.Add(cw.n)
	s.statusMu.Lock()
	s.status[cw.status]++
	s.statusMu.Unlock()
	switch cw.status {
	case http.StatusNotModified:
		s.notModified.Add(1)
	case http.StatusPartialContent:
		s.partial.Add(1)
	}
}

func (s *Site) serve(w *countingWriter, r *http.Request) {
	if r.URL.Path == "/api/stats" {
		s.serveStats(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	upath := r.URL.Path
	if !strings.HasPrefix(upath, "/") {
		upath = "/" + upath
	}
	name := strings.TrimPrefix(path.Clean(upath), "/")
	if name == "" {
		name = "."
	}
	if fi, err := fs.Stat(s.fsys, name); err == nil && fi.IsDir() {
		if !strings.HasSuffix(upath, "/") {
			http.Redirect(w, r, path.Base(upath)+"/", http.StatusMovedPermanently)
			return
		}
		name = path.Join(name, "index.html")
	}
	f, err := s.load(name)
	if err != nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	data, etag := f.data, f.etag
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		// A Range applies to the identity form: ranges of a gzip stream help nobody.
		if r.Header.Get("Range") == "" && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			data, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gzip"`
			h.Set("Content-Encoding", "gzip")
			s.gzipped.Add(1)
		}
	}
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache") // revalidate with the ETag each time
	http.ServeContent(w, r, name, f.modTime, bytes.NewReader(data))
}

// Stats is the /api/stats document.
type Stats struct {
	Requests      int64            `json:"requests"`
	BytesSent     int64            `json:"bytes_sent"`
	NotModified   int64            `json:"not_modified"`
	Partial       int64            `json:"partial"`
	Gzipped       int64            `json:"gzipped"`
	Status        map[string]int64 `json:"status"`
	UptimeSeconds int64            `json:"uptime_seconds"`
	CachedFiles   int              `json:"cached_files"`
	Goroutines    int              `json:"goroutines"`
	GOOS          string           `json:"goos"`
	GoVersion     string           `json:"go_version"`
}

func (s *Site) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	st := Stats{Requests: s.requests.Load() + 1, BytesSent: s.bytesSent.Load(),
		NotModified: s.notModified.Load(), Partial: s.partial.Load(), Gzipped: s.gzipped.Load(),
		Status: map[string]int64{}, UptimeSeconds: int64(time.Since(s.started) / time.Second),
		Goroutines: runtime.NumGoroutine(), GOOS: runtime.GOOS, GoVersion: runtime.Version()}
	s.statusMu.Lock()
	for code, n := range s.status {
		st.Status[strconv.Itoa(code)] = n
	}
	s.statusMu.Unlock()
	s.mu.Lock()
	st.CachedFiles = len(s.cache)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if r.Method == http.MethodHead {
		enc = json.NewEncoder(io.Discard)
	}
	enc.Encode(st)
}
