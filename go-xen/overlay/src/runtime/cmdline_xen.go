// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// The kernel command line (start_info.cmd_line), parsed once, here, for every reader.
//
// Words are separated by spaces (no quoting). Like Linux, which keeps its own parameters and
// hands the rest to init, the kernel keeps these:
//
//	ip=ADDR/LEN  gw=ADDR     vif 0's address and gateway (net_xen.go); ipN= gwN= for vif N
//	boottrace=1              the boot timeline (boottrace_xen.go)
//	cwd=/DIR                 the initial working directory (syscall; default /)
//	netbudget=SIZE           netstack's memory budget for data in flight (net_xen.go)
//	netconns=N               the most TCP connections open at once (net_xen.go)
//	netfront=nosg,nogso,nocsum,noqueues,queues=N  offloads the vifs do not use, and
//	                         their bound on queues (internal/xen/netfront)
//	dns=ADDR,...  search=D,...  name servers and search domains (net/dns_xen.go)
//	timerearly=NS            fault injection for tests: Xen's one-shot timer is set NS before
//	                         each deadline, as if the guest's clock lagged Xen's (thread_xen.go)
//	env.KEY=VALUE            KEY=VALUE in the environment
//	--                       the end of the kernel's words: all that follows is os.Args
//
// and every other word is os.Args[1:] (os.Args[0] is "xen"). Readers: goenvs (os.Args,
// environment), xenKernelParam (internal/xen.Param and syscall's cwd through hooks_xen.go, the
// boot trace).

package runtime

import "unsafe"

// xenKernelParams are the command line's kernel parameters, as KEY=VALUE words.
var xenKernelParams []string

// xenCmdline is start_info.cmd_line (at most MAX_GUEST_CMDLINE - 1 bytes).
func xenCmdline() string {
	line := gostringnocopy((*byte)(unsafe.Pointer(xenStartInfo() + _start_info_cmd_line)))
	if len(line) >= _MAX_GUEST_CMDLINE {
		line = line[:_MAX_GUEST_CMDLINE-1]
	}
	return line
}

// xenIsKernelParam reports whether word is one of the kernel's parameters (see above).
func xenIsKernelParam(word string) bool {
	key := word
	for i := 0; i < len(word); i++ {
		if word[i] == '=' {
			key = word[:i]
			break
		}
	}
	if len(key) == len(word) {
		return false
	}
	switch key {
	case "boottrace", "cwd", "netbudget", "netconns", "dns", "search", "timerearly", "netfront":
		return true
	}
	for _, p := range [...]string{"ip", "gw"} {
		if len(key) >= len(p) && key[:len(p)] == p {
			digits := key[len(p):]
			ok := len(digits) <= 2
			for i := 0; i < len(digits); i++ {
				ok = ok && '0' <= digits[i] && digits[i] <= '9'
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// goenvs splits the command line into os.Args, the environment and the kernel's parameters
// (called once by schedinit).
func goenvs() {
	line := xenCmdline()
	args := []string{"xen"}
	env := []string{} // non-nil: the environment is initialized, if empty
	kernel := true
	for len(line) > 0 {
		for len(line) > 0 && line[0] == ' ' {
			line = line[1:]
		}
		i := 0
		for i < len(line) && line[i] != ' ' {
			i++
		}
		if i == 0 {
			break
		}
		w := line[:i]
		line = line[i:]
		switch {
		case !kernel:
			args = append(args, w)
		case w == "--":
			kernel = false
		case len(w) > 4 && w[:4] == "env.":
			env = append(env, w[4:])
		case xenIsKernelParam(w):
			xenKernelParams = append(xenKernelParams, w)
		default:
			args = append(args, w)
		}
	}
	argslice = args
	envs = env
}

// xenKernelParam returns the value of the first kernel parameter key (ip, gw, boottrace,
// cwd, ...).
func xenKernelParam(key string) (string, bool) {
	for _, w := range xenKernelParams {
		if len(w) > len(key) && w[:len(key)] == key && w[len(key)] == '=' {
			return w[len(key)+1:], true
		}
	}
	return "", false
}
