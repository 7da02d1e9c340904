module goxen

go 1.27
