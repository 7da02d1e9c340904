// Httpd serves a static site (on Xen: the romfs image linked into the kernel) with content
// types, strong ETags and If-None-Match, byte ranges, gzip, and a JSON counter API at
// /api/stats. SIGTERM or SIGINT shut it down gracefully: requests in progress finish.
//
// Configuration, from the environment (on Xen: env.KEY=VALUE words of the kernel command line,
// which configs/httpd.yaml's env: section writes):
//
//	HTTPD_ADDR   listen address (default :80)
//	HTTPD_ROOT   the site's directory (default /www on Xen, apps/httpd/site/www elsewhere)
//	HTTPD_DEBUG  1: also serve /debug/pprof/ and /debug/burn (debug.go)
package main

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

func main() {
	addr := os.Getenv("HTTPD_ADDR")
	if addr == "" {
		addr = ":80"
	}
	root := os.Getenv("HTTPD_ROOT")
	if root == "" {
		root = "apps/httpd/site/www"
		if runtime.GOOS == "xen" {
			root = "/www"
		}
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		fmt.Fprintf(os.Stderr, "httpd: site root %s: not a directory (%v)\n", root, err)
		os.Exit(2)
	}
	fsys := os.DirFS(root)
	files, size := 0, int64(0)
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				files, size = files+1, size+fi.Size()
			}
		}
		return nil
	})
	fmt.Printf("httpd: site %s: %d files, %d bytes\n", root, files, size)
	var handler http.Handler = NewSite(fsys)
	if os.Getenv("HTTPD_DEBUG") == "1" {
		handler = debugHandler(handler)
		fmt.Println("httpd: /debug/pprof/ and /debug/burn enabled")
	}
	// A client gets 30 s to send its request's headers (at most 32 KiB of them, as much as
	// nginx's large_client_header_buffers) and 2 min between requests on a kept-alive connection.
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 32 << 10}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpd:", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	done := make(chan struct{})
	go func() {
		sig := <-stop
		fmt.Printf("httpd: %v: shutting down\n", sig)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "httpd: shutdown:", err)
		}
		close(done)
	}()
	fmt.Printf("httpd: serving %s on http://%s/\n", root, ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "httpd:", err)
		os.Exit(1)
	}
	<-done
	fmt.Println("httpd: stopped")
}
