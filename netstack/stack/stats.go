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
		RxUnknownType                Counter // EtherType other than IPv4, ARP or (on a NIC with IPv6 on) IPv6
		// Receive coalescing (gro.go): TCP segments appended to a held one (IP and TCP never
		// see them alone), and held segments handed on (each with those merged into it).
		GROMerged, GROFlushed Counter
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
	IPv6 struct {
		InReceives, InHdrErrors, InAddrErrors, InUnknownProtos Counter
		InTruncated, InDelivers, InDiscards                    Counter // InDiscards: a tentative destination, an option that says drop
		OutRequests, OutNoRoutes                               Counter
		ReasmReqds, ReasmOKs, FragOKs, FragFails, FragCreates  Counter
	}
	ICMPv6 struct {
		InMsgs, InErrors, InCsumErrors, InEchos, InEchoReplies    Counter
		InDestUnreachs, InPktTooBigs, InTimeExcds, InParmProblems Counter
		InRouterAdverts, InNeighborSolicits, InNeighborAdverts    Counter
		InOther, InMLDQueries, OutMLDReports                      Counter
		OutMsgs, OutEchoReplies, OutDestUnreachs, OutParmProblems Counter
		OutTimeExcds, OutRouterSolicits                           Counter
		OutNeighborSolicits, OutNeighborAdverts                   Counter
		OutRateLimited                                            Counter
	}
	NDP struct {
		RxMalformed    Counter // bad hop limit, code, length or options (RFC 4861 6.1, 7.1)
		RxIgnored      Counter // valid but not acted on (RA without autoconf, redirects)
		DADDone        Counter // addresses that passed duplicate address detection
		DADConflicts   Counter // addresses given up: another node has them (RFC 4862 5.4.5)
		AddrsAutoconf  Counter // SLAAC addresses formed from router advertisements
		AddrsExpired   Counter // SLAAC addresses whose valid lifetime ran out
		RoutersLearned Counter // default routers added from router advertisements
		ResolveFailed  Counter // no neighbour advertisement after the retries
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
