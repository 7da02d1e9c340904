"""Tier 3: guests with two vCPUs on the bed, issue 16. The bed's machine has one CPU
(testbed.bed.BED_CPUS says why), so Xen time-slices the two vCPUs: every SMP path of the
runtime runs (IPIs, per-vCPU timers and events, threads moving between vCPUs, the lock), while
parallel speed is shown in tier 2 (tests/xen/test_smp.py) and by the bench.

kvstore as PV and as PVH with `vcpus = 2`: memcached's `stats` says two threads (GOMAXPROCS),
and the soak's mixed TCP/UDP clients with a verifying model (tests/xen3/kvsoak.py) find no
lost write, no wrong answer and no client error; the 10-minute soak at two vCPUs is marked
soak (./scons soak). httpd with `vcpus = 2` under keep-alive load from 16 connections while
two handlers burn CPU at once: every request answered, both burns done."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from goxen import paths

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import httpload  # noqa: E402
from test_kvstore_soak import _soak  # noqa: E402

LOADGEN = HERE.parents[1] / "site_scons" / "goxen" / "bench" / "loadgen.py"


def _stats(testbed, ip):
    """kvstore's `stats` (the bench's load generator asks over UDP)."""
    r = subprocess.run([*testbed.netns.exec_prefix(), sys.executable, str(LOADGEN), "kvstats",
                        ip, "11211"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.splitlines()[-1])["stats"]


@pytest.mark.parametrize("kvstore", [("pv", 2), ("pvh", 2)], indirect=True, ids=["pv", "pvh"])
def test_kvstore_on_two_vcpus(testbed, kvstore, tmp_path):
    dom, ip, line = kvstore
    assert _stats(testbed, ip)["threads"] == 2
    _soak(testbed, kvstore, 60, tmp_path)


@pytest.mark.soak
@pytest.mark.parametrize("kvstore", [("pvh", 2)], indirect=True, ids=["pvh"])
def test_kvstore_soak_on_two_vcpus(testbed, kvstore):
    _soak(testbed, kvstore, 600, paths.BUILD / "soak-smp")


def test_httpd_on_two_vcpus_under_load(testbed, domu, httpd_kernel, httpd_config):
    config = httpd_config
    ip = config.network[0].ip.split("/")[0]
    dom = domu("httpd-smp", httpd_kernel,
               f'memory = {config.memory_mib}\ntype = "pvh"\nvcpus = 2\n',
               extra=config.cmdline + " env.HTTPD_DEBUG=1", network=True)
    dom.wait_for(r"^httpd: serving", timeout=60)
    testbed.ping(ip, timeout=90)
    burns = [subprocess.Popen([*testbed.netns.exec_prefix(), "curl", "-sS", "-m", "300", "-o",
                               "/dev/null", "-w", "%{http_code}",
                               f"http://{ip}/debug/burn?ms=3000"],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    res = httpload.load(testbed.netns, ip, 16, 40, "/lines.txt")
    codes = [b.communicate(timeout=320)[0] for b in burns]
    print(res.output)
    assert res.fail == 0 and res.ok == 16 * 40, res.output
    assert len(res.digests) == 1, res.digests
    assert codes == ["200", "200"], codes
    testbed.ping(ip, timeout=30)
    assert "fatal error" not in dom.console and "panic" not in dom.console, dom.console[-3000:]
