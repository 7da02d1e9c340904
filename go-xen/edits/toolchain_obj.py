"""The xen header type for the assembler, compiler and linker, and Go's TLS slot at FS:-8.

Every tool maps GOOS to an objabi.HeadType; Hxen is an ELF target. The runtime keeps g in
the ELF TLS slot -8(FS) (the shim sets the FS base with set_segment_base), so x86 TLS
accesses get the FS segment prefix, as on Linux.
"""

HEAD = "src/cmd/internal/objabi/head.go"

EDITS = [
    (HEAD, "\tHaix\n)", "\tHaix\n\tHxen\n)"),
    (HEAD,
     '\tcase "windows":\n\t\t*h = Hwindows\n\tdefault:',
     '\tcase "windows":\n\t\t*h = Hwindows\n\tcase "xen":\n\t\t*h = Hxen\n\tdefault:'),
    (HEAD,
     '\tcase Hwindows:\n\t\treturn "windows"\n\t}',
     '\tcase Hwindows:\n\t\treturn "windows"\n\tcase Hxen:\n\t\treturn "xen"\n\t}'),
    ("src/cmd/internal/obj/x86/asm6.go",
     "\t\t\t\tobjabi.Hsolaris:\n\t\t\t\treturn 0x64 // FS\n",
     "\t\t\t\tobjabi.Hsolaris,\n\t\t\t\tobjabi.Hxen:\n\t\t\t\treturn 0x64 // FS\n"),
]
