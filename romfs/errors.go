package romfs

// Error is the error type of this package. Lookup failures are the sentinel values below;
// a rejected image is a *MountError.
type Error string

func (e Error) Error() string { return string(e) }

// Lookup errors; adapters map them to fs.ErrNotExist, ENOTDIR and fs.ErrInvalid.
const (
	ErrNotExist = Error("romfs: file does not exist")
	ErrNotDir   = Error("romfs: not a directory")
	ErrInvalid  = Error("romfs: invalid path")
	ErrChecksum = Error("romfs: file data checksum mismatch")
)

// MountError says why an image was rejected.
type MountError struct {
	Reason string
}

func (e *MountError) Error() string { return "romfs: bad image: " + e.Reason }

func corrupt(parts ...string) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return &MountError{Reason: string(b)}
}

// itoa formats v in decimal (the package imports no strconv).
func itoa(v uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(buf[i:])
}
