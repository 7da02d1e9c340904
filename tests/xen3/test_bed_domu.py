"""Tier 3: guests as domUs of a Linux dom0 (xl, xenstored, xenconsoled), on the shared bed."""

import time

import pytest

from goxen.testbed import bed as bedmod
from goxen.testbed import image

UNIKERNEL_XL = 'memory = 32\nvcpus = 1\n'
BASELINE_IP = "10.0.0.2"


def test_dom0_toolstack_is_up(testbed):
    doms = testbed.list()
    assert "Domain-0" in doms, doms
    testbed.ping("10.0.0.254", timeout=60)      # the dom0's bridge, from the netns


def test_a_hung_dom0_command_is_killed_and_the_bed_goes_on(testbed):
    with pytest.raises(bedmod.CommandTimeout) as hung:
        testbed.sh("echo begun; sleep 300", timeout=2)
    text = str(hung.value)
    assert "begun" in text and "goxen-agent: TIMEOUT after 2 s" in text, text
    assert "(sleep) state S" in text, text          # the agent described the hung process
    assert testbed.sh("echo next", check=True).output == "next\n"
    assert testbed.needs_restart is None
    assert "Domain-0" in testbed.list()


def test_a_bed_whose_agent_stopped_answering_boots_again(testbed):
    # The agent is the command's parent: stopped, it never answers; the host gives up after
    # the command's timeout plus the agent's grace, and then refuses further commands.
    with pytest.raises(bedmod.BedError, match="did not answer"):
        testbed.sh("kill -STOP $PPID", timeout=1)
    assert testbed.needs_restart
    with pytest.raises(bedmod.BedError, match="stopped answering"):
        testbed.sh("true")
    testbed.restart()
    assert testbed.needs_restart is None
    assert "Domain-0" in testbed.list()
    testbed.ping("10.0.0.254", timeout=60)


MODES = pytest.mark.parametrize("mode", ["pv", "pvh"])


def xl_for(mode):
    return UNIKERNEL_XL + f'type = "{mode}"\n'


@MODES
def test_hello_prints_through_xenconsoled(testbed, domu, go_build, mode):
    dom = domu("hello", go_build("hello"), xl_for(mode))
    line = dom.wait_for(r"^hello, xen$", timeout=60)
    print(f"hello, xen {line.elapsed:.2f} s after xl create")
    dom.wait_for(r"^exit status 0$", timeout=90)
    info = dom.wait_shutdown(timeout=90)
    assert info.reason == "poweroff", info
    assert dom.exit_status == 0


@MODES
def test_a_panicking_guest_shuts_down_with_reason_crash(testbed, domu, go_build, mode):
    dom = domu("panic", go_build("panic"), xl_for(mode))
    dom.wait_for(r"^panic: boom", timeout=60)
    info = dom.wait_shutdown(timeout=90)
    assert info.reason == "crash", f"{info}\n{dom.console}"


@MODES
def test_a_nil_dereference_is_a_go_panic_with_its_trace(testbed, domu, go_build, mode):
    """The page fault goes through the shim (PV: Xen's trap table; PVH: our IDT, cr2 from the
    CPU) into Go's sigpanic: the first 4 MiB are unmapped in both modes."""
    dom = domu("nilptr", go_build("nilptr"), xl_for(mode))
    dom.wait_for(r"invalid memory address or nil pointer dereference", timeout=60)
    dom.wait_for(r"^main\.main\(\)$", timeout=30)
    info = dom.wait_shutdown(timeout=90)
    assert info.reason == "crash", f"{info}\n{dom.console}"
    assert "xen: fault:" not in dom.console, dom.console


def test_xl_destroy_ends_a_sleeping_guest(testbed, domu, go_build):
    dom = domu("sleeper-destroy", go_build("sleeper"), UNIKERNEL_XL)
    dom.wait_for(r"^sleeping$", timeout=60)
    assert not dom.info().shutdown
    dom.destroy().check()
    assert dom.info() is None
    assert "sleeper-destroy" not in testbed.list()


def test_xl_shutdown_powers_off_a_sleeping_guest(testbed, domu, go_build):
    dom = domu("sleeper", go_build("sleeper"), UNIKERNEL_XL)
    dom.wait_for(r"^sleeping$", timeout=60)
    time.sleep(0.5)
    t = time.monotonic()
    dom.shutdown().check()
    info = dom.wait_shutdown(timeout=90)
    took = time.monotonic() - t
    print(f"xl shutdown -> {info} in {took:.2f} s")
    assert info.reason == "poweroff", f"{info}\n{dom.console}"


def test_linux_baseline_answers_ping(testbed, domu, go_build, tmp_path):
    app = go_build("sleeper", goos="linux")
    ramdisk = image.baseline_initramfs(tmp_path / "sleeper.cpio.gz", app)
    kernel, _ = testbed.kernel, testbed.initramfs
    xl = image.baseline_xl("sleeper-linux", kernel, ramdisk, 32,
                           f"ip={BASELINE_IP}/24 gw=10.0.0.1")
    t = time.monotonic()
    dom = domu("sleeper-linux", kernel, xl, ramdisk=ramdisk)
    created = time.monotonic() - t
    dom.wait_for(r"^BASELINE-NET ", timeout=120)
    took = testbed.ping(BASELINE_IP, timeout=60)
    print(f"baseline: xl create {created:.1f} s, first ping reply "
          f"{time.monotonic() - t:.1f} s after it started (ping loop {took:.1f} s)")
    dom.wait_for(r"^sleeping$", timeout=90)
