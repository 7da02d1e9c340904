// Resolve looks names up with Go's own resolver on xen (/etc/resolv.conf, net/dns_xen.go) and
// fetches a page by name: what a service that dials names needs. The names come from the
// kernel command line (env.NAMES=a,b,c; env.URL=http://name:port/path).
//
// Output: "resolv.conf: <line>" for each line of the file, "lookup NAME: ADDR ADDR ..." (sorted)
// or "lookup NAME: error ...", "get URL: STATUS BODY" or "get URL: error ...", then "done".
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

func main() {
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		fmt.Println("resolv.conf: error", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		fmt.Println("resolv.conf:", line)
	}
	for _, name := range strings.Split(os.Getenv("NAMES"), ",") {
		if name == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(ctx, name)
		cancel()
		if err != nil {
			fmt.Println("lookup "+name+": error", err)
			continue
		}
		slices.Sort(addrs)
		fmt.Printf("lookup %s: %d %s\n", name, len(addrs), strings.Join(addrs, " "))
	}
	if url := os.Getenv("URL"); url != "" {
		c := &http.Client{Timeout: 20 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			fmt.Println("get "+url+": error", err)
		} else {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Printf("get %s: %d %s\n", url, resp.StatusCode, strings.TrimSpace(string(body)))
		}
	}
	fmt.Println("done")
}
