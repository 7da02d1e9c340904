"""`go test` on GOOS=xen through the go_xen_amd64_exec wrapper (boots each test binary as
Xen's dom0 in QEMU), and the fast subset of the std suite (`./scons gotest` runs the full list)."""

import subprocess
import sys


def _go_test(exec_env, repo, pkg):
    return subprocess.run(["go", "test", "-exec", "go_xen_exec", "-count=1", pkg], cwd=repo,
                          env=exec_env, capture_output=True, text=True, timeout=900)


def test_go_test_exec_reports_ok(exec_env, repo):
    proc = _go_test(exec_env, repo, "./tests/xen/gopkgs/passing")
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok  \tgoxen/tests/xen/gopkgs/passing"), proc.stdout


def test_go_test_exec_reports_a_failing_test_as_fail(exec_env, repo):
    proc = _go_test(exec_env, repo, "./tests/xen/gopkgs/failing")
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "--- FAIL: TestFailsOnPurpose" in proc.stdout
    assert "this test fails on purpose" in proc.stdout
    assert "FAIL\tgoxen/tests/xen/gopkgs/failing" in proc.stdout


def test_std_quick_subset_passes_on_xen(toolchain, exec_env, tmp_path):
    out = tmp_path / "results.txt"
    proc = subprocess.run([sys.executable, "-m", "goxen.gotest", "--quick", "--toolchain",
                           str(toolchain), "--out", str(out)], env=exec_env,
                          capture_output=True, text=True, timeout=1800)
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed, 0 failed" in proc.stdout


def test_drivers_distrust_their_backends(exec_env, repo):
    """internal/xen/netfront against a fake netback over in-memory rings (backend_test.go):
    tx ids out of range or answered twice, flags never negotiated, bad lengths, bad extra
    info are counted and dropped; multi-slot GSO frames both ways are laid out as netif.h
    says, a chain cut short waits for its end, one over every page posted stops the device; a producer index past what the backend was given stops
    the device (Send: ErrBroken). internal/xen/xenstore against a fake xenstored: a producer
    a ring ahead or a header past XENSTORE_PAYLOAD_MAX stops the client (ErrBroken), an
    unanswered request times out, a watch's queue is bounded. Nothing panics.
    Multi-queue (queues_test.go): one queue writes exactly the flat nodes of the single-queue
    driver, two write multi-queue-num-queues and queue-<i>/ nodes; the count is the smallest
    of the backend's offer, the vCPUs and the guest's bound; a flow keeps one tx queue; each
    queue checks its own answers and a bad one on any queue stops the device."""
    proc = subprocess.run(["go", "test", "-exec", "go_xen_exec", "-count=1", "-v", "-run",
                           "TestBackend|TestStore", "internal/xen/netfront",
                           "internal/xen/xenstore"], cwd=repo, env=exec_env,
                          capture_output=True, text=True, timeout=900)
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("TestBackendTxIDs", "TestBackendTxProducerJump", "TestBackendRx",
                 "TestBackendRxChains", "TestBackendTxGSO", "TestBackendTxParts",
                 "TestBackendQueueKeys", "TestBackendQueueCount", "TestBackendQueueByFlow",
                 "TestBackendQueueBadAnswers", "TestBackendQueueFewerAfterRestore",
                 "TestStoreOversizedHeader", "TestStoreProducerJump",
                 "TestStoreWatchQueueBounded", "TestStoreRequestTimeout"):
        assert f"--- PASS: {name}" in proc.stdout, proc.stdout
