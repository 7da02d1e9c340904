"""Python side of the go-xen project: build helpers (SCons tools live in ../site_tools) and test bed.

Modules: paths (fixed locations), debian (Debian test-bed parts), appconfig (configs/NAME.yaml),
elfnotes (Xen ELF note checks), xenrun (boots a kernel on Xen inside QEMU).
"""
