// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package netfront

import (
	"encoding/binary"
	"internal/xen"
	"internal/xen/gnttab"
	"reflect"
	"testing"
)

// Multi-queue against the fake backend (backend_test.go): the xenstore layout of one and of
// several queues, the number of queues settled, the tx queue of a flow, and each queue's
// checks of the backend's answers. Run in a guest by tests/xen/test_gotest.py.

// With one queue the nodes are exactly the flat ones of a frontend that knows nothing of
// queues (real netback and old backends read them); with two, multi-queue-num-queues and
// queue-<i>/ nodes, and no flat ring or channel node.
func TestBackendQueueKeys(t *testing.T) {
	d, _ := newFakeDevice(t, 2)
	for i, q := range d.queues[:2] {
		q.ringRefs = [2]gnttab.Ref{gnttab.Ref(10 + 2*i), gnttab.Ref(11 + 2*i)}
	}
	d.rxSG, d.feat = true, Features{SG: true, RxCsum: true, RxGSO: true}
	// What the single-queue driver wrote, node for node and in its order.
	one := [][2]string{{"tx-ring-ref", "10"}, {"rx-ring-ref", "11"}, {"event-channel", "0"},
		{"request-rx-copy", "1"}, {"feature-rx-notify", "1"},
		{"feature-sg", "1"}, {"feature-gso-tcpv4", "1"}, {"feature-gso-tcpv6", "1"},
		{"feature-no-csum-offload", "0"}, {"feature-ipv6-csum-offload", "1"}}
	if got := d.handshakeKeys(1); !reflect.DeepEqual(got, one) {
		t.Fatalf("one queue: %q, want %q", got, one)
	}
	two := [][2]string{{"multi-queue-num-queues", "2"},
		{"queue-0/tx-ring-ref", "10"}, {"queue-0/rx-ring-ref", "11"}, {"queue-0/event-channel", "0"},
		{"queue-1/tx-ring-ref", "12"}, {"queue-1/rx-ring-ref", "13"}, {"queue-1/event-channel", "0"}}
	two = append(two, one[3:]...)
	if got := d.handshakeKeys(2); !reflect.DeepEqual(got, two) {
		t.Fatalf("two queues: %q, want %q", got, two)
	}
}

// The number of queues: the smallest of the guest's bound, its vCPUs, maxQueues and the
// backend's multi-queue-max-queues; one without that node.
func TestBackendQueueCount(t *testing.T) {
	for _, c := range []struct {
		local, cpus int
		back        uint64
		ok          bool
		want        int
	}{
		{maxQueues, 2, 2, true, 2},
		{maxQueues, 2, 0, false, 1}, // an old backend
		{maxQueues, 4, 2, true, 2},
		{maxQueues, 2, 8, true, 2},
		{1, 4, 4, true, 1}, // netfront=noqueues
		{3, 4, 4, true, 3}, // netfront=queues=3
		{maxQueues, 64, 64, true, maxQueues},
		{maxQueues, 2, 0, true, 1}, // a backend offering 0
	} {
		if got := queuesFor(c.local, c.cpus, c.back, c.ok); got != c.want {
			t.Errorf("queuesFor(%d, %d, %d, %v) = %d, want %d", c.local, c.cpus, c.back, c.ok, got, c.want)
		}
	}
}

// tcpFrame is an Ethernet frame with an IPv4 TCP header from sport to dport.
func tcpFrame(sport, dport uint16, seq uint32) []byte {
	f := make([]byte, 14+20+20+8)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0], ip[9] = 0x45, 6
	copy(ip[12:], []byte{10, 0, 0, 2, 10, 0, 0, 1})
	binary.BigEndian.PutUint16(ip[20:], sport)
	binary.BigEndian.PutUint16(ip[22:], dport)
	binary.BigEndian.PutUint32(ip[24:], seq)
	return f
}

// A flow's frames go out on one queue, in order; flows spread over both queues; frames
// that are not IP (ARP) and IP fragments keep to what needs no ports.
func TestBackendQueueByFlow(t *testing.T) {
	d, _ := newFakeDevice(t, 2)
	used := [2]int{}
	for port := uint16(40000); port < 40064; port++ {
		h := flowHash(tcpFrame(port, 11211, 0))
		for seq := uint32(1); seq < 4; seq++ {
			if flowHash(tcpFrame(port, 11211, seq)) != h {
				t.Fatalf("flow %d: the hash changed with the sequence number", port)
			}
		}
		used[h%2]++
	}
	if used[0] < 16 || used[1] < 16 {
		t.Fatalf("64 flows over two queues: %v", used)
	}
	arp := make([]byte, 42)
	binary.BigEndian.PutUint16(arp[12:], 0x0806)
	if flowHash(arp) != 0 || flowHash(make([]byte, 14)) != 0 {
		t.Fatal("a frame that is not IP does not go on queue 0")
	}
	frag := tcpFrame(40000, 11211, 0)
	frag[14+6] = 0x20 // more fragments: the ports are not looked at
	frag2 := tcpFrame(40001, 11212, 0)
	frag2[14+6] = 0x20
	if flowHash(frag) != flowHash(frag2) {
		t.Fatal("fragments of one pair of addresses hash apart")
	}
	// Through SendOffload: every frame of a flow lands on its queue's ring, in order.
	for port := uint16(50000); port < 50008; port++ {
		q := d.queues[flowHash(tcpFrame(port, 80, 0))%2]
		before := q.txReqProd
		for seq := uint32(0); seq < 5; seq++ {
			if err := d.Send(tcpFrame(port, 80, seq)); err != nil {
				t.Fatal(err)
			}
		}
		if q.txReqProd != before+5 {
			t.Fatalf("flow %d: %d of 5 frames on its queue", port, q.txReqProd-before)
		}
	}
	st := d.Stats()
	if len(st.Queues) != 2 || st.Queues[0].TxFrames+st.Queues[1].TxFrames != 40 || st.TxFrames != 40 {
		t.Fatalf("stats %+v", st)
	}
}

// Each queue checks the answers on its own rings: a bad id on queue 1 is counted there and
// frees nothing on queue 0; a good frame on queue 1 reaches the one receiver; a producer
// jump on queue 1 stops the whole device.
func TestBackendQueueBadAnswers(t *testing.T) {
	d, fs := newFakeDevice(t, 2)
	q0, q1 := d.queues[0], d.queues[1]
	ids0 := q0.sendFake(2)
	ids1 := q1.sendFake(2)
	q1.txRespond(0, 0, xen.NETIF_RSP_OKAY) // not in flight on queue 1
	q1.txRespond(1, ids1[0], xen.NETIF_RSP_OKAY)
	setProd(q1.txRing(), 2)
	q1.reclaimTx()
	q0.reclaimTx()
	if len(q1.txFree) != txSlots-1 || !q1.txBusy[ids1[1]] || len(q0.txFree) != txSlots-2 || !q0.txBusy[ids0[0]] || !q0.txBusy[ids0[1]] {
		t.Fatalf("free: queue 0 %d, queue 1 %d", len(q0.txFree), len(q1.txFree))
	}
	var got [][]byte
	d.SetReceiver(func(f *Frame) { got = append(got, f.Bytes()) })
	copy(fs[1].pages[0][:], "a frame on queue 1, sixty bytes long or so, padded out.......")
	q1.rxRespond(0, 0, 0, 0, 60)
	q1.rxRespond(1, 0, 4000, 0, 200) // past its page
	setProd(q1.rxRing(), 2)
	q1.receive()
	st := d.Stats()
	if len(got) != 1 || string(got[0][:18]) != "a frame on queue 1" || st.RxErrors != 1 ||
		st.Queues[1].RxFrames != 1 || st.Queues[0].RxFrames != 0 || st.RxFrames != 1 ||
		st.Queues[1].BadResponses != 1 || st.Queues[0].BadResponses != 0 || st.BadResponses != 1 || st.Broken {
		t.Fatalf("stats %+v, %d frames", st, len(got))
	}
	setProd(q1.rxRing(), 2+rxSlots+1) // past every page posted on queue 1
	q1.receive()
	if !d.Stats().Broken {
		t.Fatal("a producer jump on queue 1 did not stop the device")
	}
	if err := d.Send(tcpFrame(1, 2, 0)); err != ErrBroken {
		t.Fatalf("Send after queue 1 broke: %v", err)
	}
}

// A restore whose backend takes fewer queues: senders hashed to a queue out of use move to
// one in use.
func TestBackendQueueFewerAfterRestore(t *testing.T) {
	d, _ := newFakeDevice(t, 2)
	d.active.Store(1)
	for port := uint16(1000); port < 1016; port++ {
		if err := d.Send(tcpFrame(port, 80, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if d.queues[0].txReqProd != 16 || d.queues[1].txReqProd != 0 {
		t.Fatalf("queue 0 took %d frames, queue 1 %d", d.queues[0].txReqProd, d.queues[1].txReqProd)
	}
}
