"""The tier-3 test bed (Xen + a Linux PV dom0 in QEMU, domUs bridged to a host network
namespace): images (goxen.testbed.image), the bed and its domains (goxen.testbed.bed), the
namespace (goxen.testbed.netns) and `./scons run` (goxen.testbed.run)."""
