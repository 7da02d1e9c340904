"""Package net on GOOS=xen in a domain without vifs (dom0 here): the netstack stack starts
with only the loopback interface, UDP sockets bind but sends off the host have no route,
deadlines and Close behave as on Linux, a TCP dial off the host fails with ENETUNREACH over
IPv4 and IPv6 alike. A wildcard listener is dual-stack ([::]), as Go's on Linux. (TCP over
loopback: test_net_loopback.py.)"""

from goxen.xenrun import Outcome

from xentest import explain


def test_net_without_vifs(boot):
    r = boot("netnone")
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    lines = r.guest_lines
    for want in ("interfaces: 1 <nil>",
                 "listen udp: [::]:7",
                 "write udp: write udp [::]:7->10.0.0.1:9: netstack: no route to host",
                 "read deadline: true read udp [::]:7: i/o timeout",
                 "read closed: true",
                 "listen tcp: true <nil>",
                 "dial tcp: true dial tcp 10.0.0.1:80: connect: network is unreachable",
                 "dial tcp6: true dial tcp6 [2001:db8::1]:80: connect: network is unreachable",
                 "netnone: done"):
        assert want in lines, explain(r)
