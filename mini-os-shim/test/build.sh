#!/bin/sh
# Build the standalone shim test kernel:
#   mini-os-shim/test/build.sh [XEN_INCLUDE [OUTDIR]]
# (XEN_INCLUDE default: goxen.debian.xen_include(); OUTDIR default: build/shim-test)
# Produces OUTDIR/shim_xen_amd64.o (the shim as Go links it) and
# OUTDIR/shim-test.elf (a PV kernel Xen boots as dom0 or domU).
set -eu
test_dir=$(cd "$(dirname "$0")" && pwd)
shim=$(dirname "$test_dir")
repo=$(dirname "$shim")
xeninc=${1:-}
if [ -z "$xeninc" ]; then
	xeninc=$(cd "$repo" && .venv/bin/python -c \
		'import sys; sys.path.insert(0, "site_scons"); from goxen import debian; print(debian.xen_include())')
fi
out=${2:-$repo/build/shim-test}
mkdir -p "$out"
"$shim/build.sh" "$xeninc" "$out"
CFLAGS="-O2 -g0 -ffreestanding -fpie -fvisibility=hidden -mno-red-zone -mgeneral-regs-only \
 -fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin -fno-common -Wall -Werror \
 -I$xeninc -I$shim/include"
for src in main.c rt0.S notes.S; do
	gcc $CFLAGS -c "$test_dir/$src" -o "$out/test-$src.o"
done
# Link against the objects before localisation so the test can use shim internals.
ld -static -nostdlib -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments -T "$test_dir/test.ld" \
	-o "$out/shim-test.elf" "$out/test-main.c.o" "$out/test-rt0.S.o" "$out/test-notes.S.o" \
	"$out/shim_xen_amd64-all.o"
echo "built $out/shim-test.elf"
