// Package packtest runs the Python romfs writer (site_scons/goxen/romfs.py) for Go tests, so
// that the reader is always tested against the writer the build uses.
package packtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Repo is the repository's top directory.
func Repo() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Python is the interpreter to run the writer with: $GOXEN_PYTHON, else the project's .venv,
// else python3.
func Python() string {
	if p := os.Getenv("GOXEN_PYTHON"); p != "" {
		return p
	}
	if p := filepath.Join(Repo(), ".venv", "bin", "python"); fileExists(p) {
		return p
	}
	return "python3"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Pack packs dir with `python -m goxen.romfs pack` (plus args) and returns the image.
func Pack(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "romfs.img")
	argv := append([]string{"-m", "goxen.romfs", "pack", dir, out}, args...)
	cmd := exec.Command(Python(), argv...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(Repo(), "site_scons"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("romfs writer: %v\n%s", err, b)
	}
	img, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
