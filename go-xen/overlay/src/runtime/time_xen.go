// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Time on xen: the pvclock in vcpu_time_info (xen/include/public/xen.h, "struct
// vcpu_time_info") gives Xen system time, nanoseconds since boot:
//
//	now = system_time + (((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32
//
// read under the record's version (odd = being updated, changed = retry). The wall
// clock is shared_info's wc_sec/wc_nsec (the wall time at system time 0, under
// wc_version) plus system time.

package runtime

import (
	"internal/runtime/atomic"
	"unsafe"
)

// rdtsc reads the time-stamp counter (ordered, as pvclock requires).
func rdtsc() uint64

// scaleDelta returns (delta << shift) * mul >> 32 without overflowing.
//
//go:nosplit
func scaleDelta(delta uint64, mul uint32, shift int8) uint64 {
	if shift < 0 {
		delta >>= uint(-shift)
	} else {
		delta <<= uint(shift)
	}
	return (delta>>32)*uint64(mul) + (delta&0xffffffff)*uint64(mul)>>32
}

// xenNanotime implements nanotime1 (see sys_xen_amd64.s).
//
//go:nosplit
func xenNanotime() int64 {
	return xenTSCToSystem(0, true)
}

// xenTSCToSystem converts a TSC reading to Xen system time with the current pvclock record;
// with now, it reads the TSC itself inside the record's version window (nanotime). An
// older tsc may lie before the record's tsc_timestamp (the boot timeline's entry stamp):
// the (signed) difference is then scaled and subtracted.
//
//go:nosplit
func xenTSCToSystem(tsc uint64, now bool) int64 {
	t := xenVcpuInfo() + _vcpu_info_time
	verp := (*uint32)(unsafe.Pointer(t + _vcpu_time_version))
	for {
		ver := atomic.Load(verp)
		if ver&1 != 0 {
			continue
		}
		stamp := atomic.Load64((*uint64)(unsafe.Pointer(t + _vcpu_time_tsc_timestamp)))
		sys := atomic.Load64((*uint64)(unsafe.Pointer(t + _vcpu_time_system_time)))
		mul := atomic.Load((*uint32)(unsafe.Pointer(t + _vcpu_time_tsc_to_system_mul)))
		shift := *(*int8)(unsafe.Pointer(t + _vcpu_time_tsc_shift))
		if now {
			tsc = rdtsc()
		}
		if atomic.Load(verp) != ver {
			continue
		}
		// The difference is taken modulo 2^64, as pvclock readers do: a domU's TSC starts
		// near 0 when the domain is built (Xen offsets it), and Xen may stamp the record with
		// a TSC from before that, i.e. a "negative" tsc_timestamp (seen: 2^64 - 522639916).
		if d := tsc - stamp; int64(d) >= 0 {
			return int64(sys + scaleDelta(d, mul, shift))
		}
		return int64(sys - scaleDelta(stamp-tsc, mul, shift))
	}
}

// xenWalltime implements walltime (see sys_xen_amd64.s).
//
//go:nosplit
func xenWalltime() (sec int64, nsec int32) {
	s := xenSharedInfo()
	verp := (*uint32)(unsafe.Pointer(s + _shared_info_wc_version))
	for {
		ver := atomic.Load(verp)
		if ver&1 != 0 {
			continue
		}
		wsec := int64(atomic.Load((*uint32)(unsafe.Pointer(s + _shared_info_wc_sec))))
		wsec |= int64(atomic.Load((*uint32)(unsafe.Pointer(s+_shared_info_wc_sec_hi)))) << 32
		wnsec := int64(atomic.Load((*uint32)(unsafe.Pointer(s + _shared_info_wc_nsec))))
		if atomic.Load(verp) != ver {
			continue
		}
		t := wnsec + xenNanotime()
		return wsec + t/1e9, int32(t % 1e9)
	}
}
