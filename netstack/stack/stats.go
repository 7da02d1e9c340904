package stack

import (
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
)

// Counter is a monotonically increasing statistic.
type Counter struct{ v atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.v.Load() }

// Stats are the stack's counters, named after the SNMP MIB-II groups Linux's netstat -s
// prints (RFC 1213, RFC 4293) plus the drops this stack distinguishes. Read them at any time
// with Stack.Stats; Snapshot flattens them to "Group.Name" keys.
type Stats struct {
	Link struct {
		RxFrames, TxFrames, TxErrors Counter
		RxMalformed                  Counter // shorter than an Ethernet header
		RxNotForUs                   Counter // unicast to another MAC
		RxUnknownType                Counter // EtherType other than IPv4 or ARP
	}
	ARP struct {
		RxRequests, RxReplies, TxRequests, TxReplies Counter
		RxMalformed, RxNotForUs                      Counter
		ResolveFailed                                Counter // no reply after the retries
		PendingDropped                               Counter // queued packets dropped
	}
	IP struct {
		InReceives, InHdrErrors, InAddrErrors, InUnknownProtos Counter
		InDelivers, OutRequests, OutNoRoutes, OutDiscards      Counter
		InChecksumErrors, InTruncated, InBadOptions            Counter
		ReasmReqds, ReasmOKs, ReasmFails, ReasmTimeouts        Counter
		ReasmOverlaps, ReasmLimitDrops                         Counter
		FragOKs, FragFails, FragCreates                        Counter
	}
	ICMP struct {
		InMsgs, InErrors, InCsumErrors, InEchos, InDestUnreachs Counter
		InEchoReps, InTimeExcds, InOther                        Counter
		OutMsgs, OutEchoReps, OutDestUnreachs, OutTimeExcds     Counter
		OutRateLimited                                          Counter // errors not sent: over ICMPErrorRate
	}
	UDP struct {
		InDatagrams, NoPorts, InErrors, InCsumErrors Counter
		OutDatagrams, RcvbufErrors, OutErrors        Counter
	}
}

// Snapshot returns every counter as "Group.Name" -> value.
func (s *Stats) Snapshot() map[string]uint64 {
	m := make(map[string]uint64)
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		g := v.Field(i)
		gn := v.Type().Field(i).Name
		for j := 0; j < g.NumField(); j++ {
			c := g.Field(j).Addr().Interface().(*Counter)
			m[gn+"."+g.Type().Field(j).Name] = c.Value()
		}
	}
	return m
}

// String formats the counters like netstat -s: one group heading, then "name: value" lines.
func (s *Stats) String() string {
	var b strings.Builder
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		g := v.Field(i)
		b.WriteString(v.Type().Field(i).Name + ":\n")
		for j := 0; j < g.NumField(); j++ {
			c := g.Field(j).Addr().Interface().(*Counter)
			b.WriteString("    " + g.Type().Field(j).Name + ": " + strconv.FormatUint(c.Value(), 10) + "\n")
		}
	}
	return b.String()
}
