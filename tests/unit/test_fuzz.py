"""The Go fuzz targets (goxen.fuzz, `./scons fuzz`): each runs for a few seconds here, so
that ./scons test fuzzes every target a little on every run (the committed regression inputs
under testdata/fuzz run in the packages' own go test as well)."""

import pytest

from goxen import fuzz


@pytest.mark.parametrize("target", [t[2] for t in fuzz.TARGETS])
def test_fuzz_target_briefly(target):
    module, pkg, name = next(t for t in fuzz.TARGETS if t[2] == target)
    ok, secs, out = fuzz.run_target(fuzz.wheel_go(), module, pkg, name, "3s", 1)
    print("\n".join(out[-20:]))
    assert ok, "\n".join(out[-40:])


def test_every_fuzz_target_is_listed():
    import re
    from goxen import paths
    found = set()
    for f in paths.REPO.glob("**/*_test.go"):
        if any(p in f.parts for p in ("build", ".venv", ".cache")):
            continue
        found |= set(re.findall(r"^func (Fuzz\w+)\(f \*testing\.F\)", f.read_text(), re.M))
    assert found == {t[2] for t in fuzz.TARGETS}
