"""Edits to package net's shared files for GOOS=xen (format: go-xen/apply.py).

A xen kernel's file system is its romfs, which rarely has an /etc/hosts; without one the
pure-Go resolver would send "localhost" to DNS. net/net_xen.go sets defaultHosts so that
"localhost" names 127.0.0.1 (RFC 6761 6.3) unless the hosts file says otherwise.
"""

EDITS = [
    ("src/net/hosts.go",
     "func readHosts() {\n",
     "// defaultHosts, if set, adds the entries a system has without a hosts file (GOOS=xen).\n"
     "var defaultHosts func(byName map[string]byName, byAddr map[string][]string)\n\n"
     "func readHosts() {\n"),
    ("src/net/hosts.go",
     "\t// Update the data cache.\n\thosts.expire = now.Add(cacheMaxAge)\n",
     "\tif defaultHosts != nil {\n\t\tdefaultHosts(hs, is)\n\t}\n"
     "\t// Update the data cache.\n\thosts.expire = now.Add(cacheMaxAge)\n"),
]
