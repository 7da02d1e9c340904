// Package guestimg holds the romfs image of the guest test program, the way GOOS=xen's syscall
// holds an application's: an empty string that the build's generated file (goxen.romfs.
// embed_overlay, with symbol "goxen/romfs/internal/guestimg.Image") replaces at link time.
package guestimg

// Image is the embedded image ("" when the build added none).
var Image string
