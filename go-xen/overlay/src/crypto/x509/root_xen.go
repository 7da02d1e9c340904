// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package x509

// System roots on xen come from the file system image, where an application that
// needs them ships a bundle at the usual Debian place. SSL_CERT_FILE and
// SSL_CERT_DIR (env.SSL_CERT_FILE=... on the kernel command line) override these.

// Possible certificate files; stop after finding one.
var certFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
}

// Possible directories with certificate files; all will be read.
var certDirectories = []string{
	"/etc/ssl/certs",
}
