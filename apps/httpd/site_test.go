package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
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
