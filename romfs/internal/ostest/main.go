// Ostest reads the application's romfs image, mounted at / by GOOS=xen's syscall, through
// the ordinary APIs only: os.Open, os.ReadFile, os.Stat, os.ReadDir, filepath.WalkDir,
// http.FileServer(http.Dir("/static")) and http.ServeFile (through httptest recorders, no
// network), and /etc: the image's hosts merged over the guest's generated passwd and group
// (os/user). Writes must fail with a read-only error and never panic.
//
// Output: one "file SHA256 SIZE PATH" line per regular file found by WalkDir, "check NAME ok"
// or "check NAME FAILED: ..." per API check, then "ostest: ok" or "ostest: FAILED".
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
)

var failed bool

func check(name string, err error) {
	if err != nil {
		failed = true
		fmt.Printf("check %s FAILED: %v\n", name, err)
		return
	}
	fmt.Printf("check %s ok\n", name)
}

func main() {
	// Every file, by WalkDir from the root, with os.Open + io.Copy into a hash.
	check("walkdir", filepath.WalkDir("/", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == "/dev" || path == "/etc" || path == "/proc" { // the device tree's; /etc is checked below
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return err
		}
		fmt.Printf("file %s %d %s\n", hex.EncodeToString(h.Sum(nil)), n, strings.TrimPrefix(path, "/"))
		return nil
	}))

	check("readfile", func() error {
		b, err := os.ReadFile("/static/index.html")
		if err != nil || !strings.Contains(string(b), "romfs") {
			return fmt.Errorf("%q, %v", b, err)
		}
		return nil
	}())

	check("stat", func() error {
		fi, err := os.Stat("/static/index.html")
		if err != nil {
			return err
		}
		if fi.IsDir() || fi.Mode().Perm() != 0o640 || fi.ModTime().Unix() != 1700000000 {
			return fmt.Errorf("%v %v %v", fi.Mode(), fi.ModTime(), fi.Size())
		}
		if _, err := os.Stat("/nope"); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("stat /nope: %v", err)
		}
		return nil
	}())

	check("readdir", func() error {
		ents, err := os.ReadDir("/")
		if err != nil {
			return err
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if !strings.Contains(strings.Join(names, ","), "dev,") || !strings.Contains(strings.Join(names, ","), "static") {
			return fmt.Errorf("/ lists %v", names)
		}
		return nil
	}())

	// /etc: the image's hosts over the generated directory (syscall/etc_xen.go), whose
	// passwd and group fill in what the image lacks; os/user reads them.
	check("etc", func() error {
		ents, err := os.ReadDir("/etc")
		if err != nil {
			return err
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if strings.Join(names, ",") != "group,hosts,passwd,resolv.conf" {
			return fmt.Errorf("/etc lists %v", names)
		}
		if b, err := os.ReadFile("/etc/hosts"); err != nil || string(b) != "10.9.8.7\timagehost\n" {
			return fmt.Errorf("/etc/hosts: %q, %v (want the image's)", b, err)
		}
		if b, err := os.ReadFile("/etc/passwd"); err != nil || !strings.HasPrefix(string(b), "root:x:0:0:") {
			return fmt.Errorf("/etc/passwd: %q, %v", b, err)
		}
		u, err := user.Lookup("root")
		if err != nil || u.Uid != "0" || u.HomeDir != "/" {
			return fmt.Errorf("user.Lookup(root): %+v, %v", u, err)
		}
		if g, err := user.LookupGroupId("0"); err != nil || g.Name != "root" {
			return fmt.Errorf("user.LookupGroupId(0): %+v, %v", g, err)
		}
		if err := os.Remove("/etc/passwd"); !errors.Is(err, syscall.EROFS) {
			return fmt.Errorf("Remove /etc/passwd: %v", err)
		}
		return nil
	}())

	check("chdir-relative", func() error {
		if err := os.Chdir("/static"); err != nil {
			return err
		}
		defer os.Chdir("/")
		_, err := os.ReadFile("index.html")
		return err
	}())

	check("readonly", func() error {
		err := os.WriteFile("/static/new", []byte("x"), 0o644)
		if !errors.Is(err, syscall.EROFS) {
			return fmt.Errorf("WriteFile: %v", err)
		}
		if err := os.Remove("/static/index.html"); !errors.Is(err, syscall.EROFS) {
			return fmt.Errorf("Remove: %v", err)
		}
		if _, err := os.OpenFile("/static/index.html", os.O_RDWR, 0); !errors.Is(err, syscall.EROFS) {
			return fmt.Errorf("OpenFile O_RDWR: %v", err)
		}
		if err := os.Mkdir("/newdir", 0o755); !errors.Is(err, syscall.EROFS) {
			return fmt.Errorf("Mkdir: %v", err)
		}
		return nil
	}())

	check("fileserver", func() error {
		h := http.FileServer(http.Dir("/static"))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil)) // the directory's index.html
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "romfs") {
			return fmt.Errorf("GET /: %d %q", rec.Code, rec.Body.String())
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/h%C3%A9llo%20w%C3%B6rld.txt", nil))
		if rec.Code != 200 || rec.Body.String() != "ünïcödé\n" {
			return fmt.Errorf("GET /héllo wörld.txt: %d %q", rec.Code, rec.Body.String())
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/%E6%97%A5%E6%9C%AC%E8%AA%9E/", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "ファイル") {
			return fmt.Errorf("GET /日本語/: %d %q", rec.Code, rec.Body.String())
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/missing", nil))
		if rec.Code != 404 {
			return fmt.Errorf("GET /missing: %d", rec.Code)
		}
		return nil
	}())

	check("servefile-range", func() error {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/big", nil)
		req.Header.Set("Range", "bytes=100-199")
		http.ServeFile(rec, req, "/large/big.bin")
		want, _ := os.ReadFile("/large/big.bin")
		if rec.Code != 206 || rec.Body.String() != string(want[100:200]) {
			return fmt.Errorf("range: %d, %d bytes", rec.Code, rec.Body.Len())
		}
		return nil
	}())

	if failed {
		fmt.Println("ostest: FAILED")
		os.Exit(1)
	}
	fmt.Println("ostest: ok")
}
