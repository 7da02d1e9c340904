#!/bin/sh
# Build the shim by hand, the way the SCons shim tool does:
#   mini-os-shim/build.sh XEN_INCLUDE OUTDIR
# XEN_INCLUDE is the directory holding xen/xen.h. Writes
#   OUTDIR/shim_xen_amd64.o      what Go links: only the default-visibility
#                                symbols (xen_shim_init, xen_shim_suspend, xen_boot,
#                                xen_hypercall_page) stay global
#   OUTDIR/shim_xen_amd64-all.o  the same before localising (for the test kernel)
# and fails if a relocation other than R_X86_64_PC32/PLT32/64 appears.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
xeninc=$1
out=$2
mkdir -p "$out"
CFLAGS="-O2 -g0 -ffreestanding -fpie -fvisibility=hidden -mno-red-zone -mgeneral-regs-only \
 -fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin -fno-common -Wall -Werror \
 -I$xeninc -I$here/include"
objs=""
for src in "$here"/*.c "$here"/*.S; do
	o="$out/$(basename "$src").o"
	gcc $CFLAGS -c "$src" -o "$o"
	objs="$objs $o"
done
ld -r -o "$out/shim_xen_amd64-all.o" $objs
objcopy --localize-hidden "$out/shim_xen_amd64-all.o" "$out/shim_xen_amd64.o"
bad=$(readelf -rW "$out/shim_xen_amd64.o" | awk '/R_X86_64_/ {print $3}' |
	grep -v -x -e R_X86_64_PC32 -e R_X86_64_PLT32 -e R_X86_64_64 | sort -u || true)
if [ -n "$bad" ]; then
	echo "shim: relocations Go's linker cannot take: $bad" >&2
	exit 1
fi
undef=$(nm -u "$out/shim_xen_amd64.o")
if [ -n "$undef" ]; then
	echo "shim: undefined symbols: $undef" >&2
	exit 1
fi
echo "built $out/shim_xen_amd64.o"
