"""cmd/link for GOOS=xen: a static ELF at 0x400000 that carries its own Xen notes.

The logic lives in the overlay file src/cmd/link/internal/ld/xen.go; these edits are the
call sites plus the case labels that route Hxen to the ELF paths.
"""

LD = "src/cmd/link/internal/ld/"

EDITS = [
    # Layout: ELF, text at 0x400000 + HEADR, 4 KiB rounding, internal linking only.
    ("src/cmd/link/internal/amd64/obj.go",
     "\tcase objabi.Hwindows: /* PE executable */",
     "\tcase objabi.Hxen: /* Xen PV kernel: static ELF */\n"
     "\t\tld.Xeninit(ctxt)\n\n"
     "\tcase objabi.Hwindows: /* PE executable */"),
    (LD + "asmb.go",
     "\t\tobjabi.Hsolaris:\n\t\tasmbElf(ctxt)",
     "\t\tobjabi.Hsolaris,\n\t\tobjabi.Hxen:\n\t\tasmbElf(ctxt)"),
    # g lives in the ELF TLS slot, -8(FS).
    (LD + "sym.go",
     "\t\tobjabi.Hsolaris:\n\t\t/*\n\t\t * ELF uses TLS offset negative from FS.",
     "\t\tobjabi.Hsolaris,\n\t\tobjabi.Hxen:\n\t\t/*\n\t\t * ELF uses TLS offset negative from FS."),
    # A GOOS=xen link is always -d, but the boot shim's ELF relocations (R_X86_64_PC32, ...)
    # are converted to Go relocations only here; skipping this would leave them as zeros.
    (LD + "data.go",
     "\t// -d suppresses dynamic loader format, so we may as well not\n"
     "\t// compute these sections or mark their symbols as reachable.\n"
     "\tif *FlagD {\n\t\treturn\n\t}\n",
     "\t// -d suppresses dynamic loader format, so we may as well not\n"
     "\t// compute these sections or mark their symbols as reachable.\n"
     "\t// GOOS=xen is always -d but still needs the host object (boot shim)\n"
     "\t// relocations converted below; it gets no dynamic hash (see xen.go).\n"
     "\tif *FlagD && ctxt.HeadType != objabi.Hxen {\n\t\treturn\n\t}\n"),
    (LD + "data.go",
     "\tif ctxt.IsELF {\n\t\telfdynhash(ctxt)\n\t}\n",
     "\tif ctxt.IsELF && !*FlagD {\n\t\telfdynhash(ctxt)\n\t}\n"),
    # The Xen notes: reserve them (own PT_NOTE) and write them.
    (LD + "elf.go",
     "\tif len(buildinfo) > 0 {\n\t\tsh := elfshname(\".note.gnu.build-id\")",
     "\tif ctxt.HeadType == objabi.Hxen {\n"
     "\t\tresoff -= int64(elfxennotes(ctxt, uint64(startva), uint64(resoff)))\n"
     "\t}\n\n"
     "\tif len(buildinfo) > 0 {\n\t\tsh := elfshname(\".note.gnu.build-id\")"),
    (LD + "elf.go",
     "\t\tif len(buildinfo) > 0 {\n\t\t\ta += int64(elfwritebuildinfo(ctxt.Out))",
     "\t\tif ctxt.HeadType == objabi.Hxen {\n"
     "\t\t\ta += int64(elfwritexennotes(ctxt))\n"
     "\t\t}\n"
     "\t\tif len(buildinfo) > 0 {\n\t\t\ta += int64(elfwritebuildinfo(ctxt.Out))"),
    # Keep the hypercall page (referenced only by a note); reject external linking.
    (LD + "deadcode.go",
     '\tnames = append(names, "runtime.unreachableMethod")\n',
     '\tnames = append(names, "runtime.unreachableMethod")\n'
     "\tnames = append(names, xenDeadcodeRoots(d.ctxt)...)\n"),
]
