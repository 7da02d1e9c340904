package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"
)

var big = strings.Repeat("all work and no play makes jack a dull boy\n", 100)

func testSite() *Site {
	return NewSite(fstest.MapFS{
		"index.html":     {Data: []byte("<h1>hi</h1>")},
		"big.txt":        {Data: []byte(big)},
		"img/a.png":      {Data: []byte("\x89PNG....")},
		"sub/index.html": {Data: []byte("sub")},
	})
}

func get(t *testing.T, s *Site, path string, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w.Result()
}

func body(r *http.Response) string { b, _ := io.ReadAll(r.Body); return string(b) }

func TestSite(t *testing.T) {
	s := testSite()
	r := get(t, s, "/")
	if r.StatusCode != 200 || body(r) != "<h1>hi</h1>" || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("index: %d %v", r.StatusCode, r.Header)
	}
	etag := r.Header.Get("ETag")
	if r := get(t, s, "/index.html", "If-None-Match", etag); r.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}
	if r := get(t, s, "/img/a.png"); r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("png type %q", r.Header.Get("Content-Type"))
	}
	if r := get(t, s, "/sub"); r.StatusCode != 301 || r.Header.Get("Location") != "/sub/" {
		t.Fatalf("dir redirect: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get(t, s, "/sub/"); body(r) != "sub" {
		t.Fatal("sub index")
	}
	if r := get(t, s, "/nope"); r.StatusCode != 404 {
		t.Fatalf("missing: %d", r.StatusCode)
	}
	if r := get(t, s, "/big.txt", "Range", "bytes=4-7"); r.StatusCode != 206 || body(r) != "work" || r.Header.Get("Content-Encoding") != "" {
		t.Fatalf("range: %d", r.StatusCode)
	}
	r = get(t, s, "/big.txt", "Accept-Encoding", "br, gzip")
	if r.Header.Get("Content-Encoding") != "gzip" || !strings.HasSuffix(r.Header.Get("ETag"), `-gzip"`) {
		t.Fatalf("gzip headers: %v", r.Header)
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); string(b) != big {
		t.Fatal("gzip body")
	}
	if r := get(t, s, "/big.txt", "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 was gzipped")
	}
	var st Stats
	if err := json.Unmarshal([]byte(body(get(t, s, "/api/stats"))), &st); err != nil {
		t.Fatal(err)
	}
	if st.Requests != 10 || st.NotModified != 1 || st.Partial != 1 || st.Gzipped != 1 || st.Status["404"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// countingFS counts the opens of each name; a Read of big.txt waits until `stats` opens of
// it happened (the requests' fs.Stat calls), so that every request misses the cache at once.
type countingFS struct {
	fs.FS
	stats int64
	opens sync.Map // name -> *atomic.Int64
}

func (c *countingFS) count(name string) *atomic.Int64 {
	n, _ := c.opens.LoadOrStore(name, new(atomic.Int64))
	return n.(*atomic.Int64)
}

func (c *countingFS) Open(name string) (fs.File, error) {
	c.count(name).Add(1)
	f, err := c.FS.Open(name)
	if err != nil || name != "big.txt" {
		return f, err
	}
	return &gatedFile{f, c}, nil
}

type gatedFile struct {
	fs.File
	c *countingFS
}

func (g *gatedFile) Read(p []byte) (int, error) {
	for deadline := time.Now().Add(5 * time.Second); g.c.count("big.txt").Load() < g.c.stats && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	return g.File.Read(p)
}

// Many clients asking for the same file at once before it is cached: it is read (and
// gzipped) once, not once per client, and every client gets it whole.
func TestSiteLoadsAFileOnceUnderConcurrentMisses(t *testing.T) {
	cfs := &countingFS{FS: fstest.MapFS{"big.txt": {Data: []byte(big)}}, stats: 32 * 2}
	s := NewSite(cfs)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := get(t, s, "/big.txt", "Accept-Encoding", "gzip")
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Error(err)
				return
			}
			if b, _ := io.ReadAll(zr); string(b) != big {
				t.Errorf("body of %d bytes, want %d", len(b), len(big))
			}
		}()
	}
	wg.Wait()
	n, _ := cfs.opens.Load("big.txt")
	// fs.Stat is Open + Stat on a plain FS: two per request (serve, load), then one ReadFile.
	if got := n.(*atomic.Int64).Load(); got != 32*2+1 {
		t.Errorf("big.txt opened %d times, want one read after the 32 stats", got)
	}
}
