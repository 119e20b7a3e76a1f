//go:build unix

package exchange

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f, released when f is
// closed or the process ends.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
