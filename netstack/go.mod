module goxen/netstack

go 1.27
