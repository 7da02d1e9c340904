// GOOS=xen: the image is a static ELF that Xen's domain builder loads
// directly as a 64-bit PV kernel or as a PVH guest. The builder finds
// everything it needs in ELF notes owned by "Xen" (xen/include/public/elfnote.h):
// where the kernel is mapped (VIRT_BASE, PADDR_OFFSET), where to enter it
// (ENTRY for PV, PHYS32_ENTRY for PVH), which page to fill with hypercall
// stubs (HYPERCALL_PAGE, PV) and what the kernel supports (FEATURES,
// SUPPORTED_FEATURES).
//
// The notes get a PT_NOTE segment of their own, as the BSD ident notes do:
// phsh points a program header at exactly one section, so the segment that
// covers the Go build ID note cannot cover a second section. Xen reads
// PT_NOTE segments before SHT_NOTE sections.
//
// Only internal linking is supported, and the image is never dynamic (-d):
// no PT_INTERP, no .dynamic. The boot shim is a host object (.syso) whose
// ELF relocations dynreloc converts even under -d for this target.

package ld

import (
	"cmd/internal/objabi"
	"debug/elf"
	"encoding/binary"
	"internal/buildcfg"
)

// Note types from xen/include/public/elfnote.h (XEN_ELFNOTE_*).
const (
	xenNoteEntry             = 1
	xenNoteHypercallPage     = 2
	xenNoteVirtBase          = 3
	xenNotePaddrOffset       = 4
	xenNoteXenVersion        = 5
	xenNoteGuestOS           = 6
	xenNoteGuestVersion      = 7
	xenNoteLoader            = 8
	xenNoteFeatures          = 10
	xenNoteSupportedFeatures = 17
	xenNotePhys32Entry       = 18
)

// xenFeatDom0 is XENFEAT_dom0 (xen/include/public/features.h): the kernel
// can run as the control domain. SUPPORTED_FEATURES is an array of 32-bit
// feature submaps; submap 0 holds bits 0-31.
const xenFeatDom0 = 11

// xenFeatures is the FEATURES string: names from features.h without the
// XENFEAT_ prefix, '|'-separated, '!' marking a feature the kernel requires.
const xenFeatures = "!writable_page_tables|pae_pgdir_above_4gb"

// xenHypercallPageSym is the page the boot shim reserves for Xen's
// hypercall stubs. It must be defined and 4096-aligned.
const xenHypercallPageSym = "xen_hypercall_page"

// xenPVHEntrySym is the boot shim's 32-bit PVH entry (mini-os-shim/pvh_entry.S). The image
// is loaded at its link address in both modes (PADDR_OFFSET = VIRT_BASE), so its virtual
// address is also its physical one, which PHYS32_ENTRY wants.
const xenPVHEntrySym = "xen_pvh_entry"

var xenNoteName = []byte("Xen\x00")

type xenNote struct {
	typ  uint32
	desc []byte
}

// xenNotes is computed when the header area is laid out and written by
// elfwritexennotes.
var xenNotes []xenNote

// Xeninit sets the ELF layout for GOOS=xen; called by the arch's archinit.
// Text starts at 0x400000 + HEADR, so with the ELF headers the first
// PT_LOAD begins at VIRT_BASE 0x400000.
func Xeninit(ctxt *Link) {
	xenCheckLinkMode(ctxt)
	if ctxt.BuildMode != BuildModeExe {
		Exitf("-buildmode=%s is not supported for GOOS=xen: a Xen kernel is a static executable (-buildmode=exe)", ctxt.BuildMode)
	}
	*FlagD = true // static: no interpreter, no dynamic section
	Elfinit(ctxt)
	HEADR = ELFRESERVE
	if *FlagRound == -1 {
		*FlagRound = 4096
	}
	if *FlagTextAddr == -1 {
		*FlagTextAddr = Rnd(0x400000, *FlagRound) + int64(HEADR)
	}
}

func xenCheckLinkMode(ctxt *Link) {
	if ctxt.LinkMode == LinkExternal {
		Exitf("-linkmode=external is not supported for GOOS=xen: the kernel image is made by Go's internal linker only")
	}
}

// xenDeadcodeRoots returns symbols that must be kept although no Go code
// refers to them: the hypercall page is referenced only by an ELF note.
// It runs after the link mode is final, so it also rejects external
// linking chosen by GO_EXTLINK_ENABLED.
func xenDeadcodeRoots(ctxt *Link) []string {
	if ctxt.HeadType != objabi.Hxen {
		return nil
	}
	xenCheckLinkMode(ctxt)
	return []string{xenHypercallPageSym, xenPVHEntrySym}
}

func xenStringDesc(s string) []byte {
	return append([]byte(s), 0)
}

func xenNumDesc(v uint64) []byte {
	return binary.LittleEndian.AppendUint64(nil, v)
}

// elfxennotes reserves the .note.Xen section in the ELF header area, gives
// it its own PT_NOTE program header and returns the bytes it takes.
func elfxennotes(ctxt *Link, startva, resoff uint64) int {
	ldr := ctxt.loader
	hp := ldr.Lookup(xenHypercallPageSym, 0)
	if hp == 0 || !ldr.AttrReachable(hp) || ldr.SymType(hp) == 0 {
		Exitf("GOOS=xen: symbol %s is not defined; it is the 4096-aligned page the boot shim (src/runtime/zshim_xen_amd64.syso) reserves for Xen's hypercall stubs", xenHypercallPageSym)
	}
	hpAddr := uint64(ldr.SymValue(hp))
	if hpAddr%4096 != 0 {
		Exitf("GOOS=xen: %s is at %#x, which is not 4096-aligned", xenHypercallPageSym, hpAddr)
	}
	base := startva // VIRT_BASE: where the first PT_LOAD (the ELF header) is mapped
	pe := ldr.Lookup(xenPVHEntrySym, 0)
	if pe == 0 || !ldr.AttrReachable(pe) || ldr.SymType(pe) == 0 {
		Exitf("GOOS=xen: symbol %s is not defined; it is the boot shim's PVH entry (src/runtime/zshim_xen_amd64.syso)", xenPVHEntrySym)
	}
	peAddr := uint64(ldr.SymValue(pe))
	if peAddr >= 1<<32 {
		Exitf("GOOS=xen: %s is at %#x, above 4 GiB: Xen enters a PVH guest in 32-bit mode", xenPVHEntrySym, peAddr)
	}

	xenNotes = []xenNote{
		{xenNoteGuestOS, xenStringDesc("Go")},
		{xenNoteGuestVersion, xenStringDesc(buildcfg.Version)},
		{xenNoteXenVersion, xenStringDesc("xen-3.0")},
		{xenNoteLoader, xenStringDesc("generic")},
		{xenNoteVirtBase, xenNumDesc(base)},
		// Physical address = virtual address - (VIRT_BASE - PADDR_OFFSET):
		// pfn 0 holds the ELF header at VIRT_BASE.
		{xenNotePaddrOffset, xenNumDesc(base)},
		{xenNoteEntry, xenNumDesc(uint64(Entryvalue(ctxt)))},
		{xenNotePhys32Entry, binary.LittleEndian.AppendUint32(nil, uint32(peAddr))},
		{xenNoteHypercallPage, xenNumDesc(hpAddr)},
		{xenNoteFeatures, xenStringDesc(xenFeatures)},
		{xenNoteSupportedFeatures, binary.LittleEndian.AppendUint32(nil, 1<<xenFeatDom0)},
	}
	sizes := make([]int, len(xenNotes))
	for i, n := range xenNotes {
		sizes[i] = int(Rnd(int64(len(xenNoteName)), 4) + Rnd(int64(len(n.desc)), 4))
	}
	sh := elfshname(".note.Xen")
	size := elfnote(sh, startva, resoff, sizes...)

	ph := newElfPhdr()
	ph.Type = elf.PT_NOTE
	ph.Flags = elf.PF_R
	phsh(ph, sh)
	return size
}

// elfwritexennotes writes the notes reserved by elfxennotes.
func elfwritexennotes(ctxt *Link) int {
	sh := elfshname(".note.Xen")
	out := ctxt.Out
	out.SeekSet(int64(sh.Off))
	for _, n := range xenNotes {
		out.Write32(uint32(len(xenNoteName)))
		out.Write32(uint32(len(n.desc)))
		out.Write32(n.typ)
		out.Write(xenNoteName)
		for i := len(xenNoteName); i%4 != 0; i++ {
			out.Write8(0)
		}
		out.Write(n.desc)
		for i := len(n.desc); i%4 != 0; i++ {
			out.Write8(0)
		}
	}
	return int(sh.Size)
}
