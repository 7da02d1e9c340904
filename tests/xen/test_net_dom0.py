"""Package net on GOOS=xen in a domain without vifs (dom0 here): the netstack stack starts
with no interfaces, UDP sockets bind but sends have no route, deadlines and Close behave as on
Linux, and TCP fails with a clear error (netstack has no TCP yet)."""

from goxen.xenrun import Outcome

from xentest import explain


def test_net_without_vifs(boot):
    r = boot("netnone")
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    lines = r.guest_lines
    for want in ("interfaces: 0 <nil>",
                 "listen udp: 0.0.0.0:7",
                 "write udp: write udp 0.0.0.0:7->10.0.0.1:9: netstack: no route to host",
                 "read deadline: true read udp 0.0.0.0:7: i/o timeout",
                 "read closed: true",
                 "listen tcp: true listen tcp :80: TCP is not supported on GOOS=xen yet "
                 "(netstack has UDP over IPv4 only)",
                 "netnone: done"):
        assert want in lines, explain(r)
    assert any(line.startswith("dial tcp: true ") for line in lines), explain(r)
