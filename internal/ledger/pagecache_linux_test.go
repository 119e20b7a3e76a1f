package ledger

import (
	"os"
	"syscall"
)

// dropFromPageCache asks the kernel to drop a file's clean pages from the OS
// page cache (posix_fadvise POSIX_FADV_DONTNEED), so that the next reads
// come from the disk.
func dropFromPageCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	const fadvDontNeed = 4
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); e != 0 {
		return e
	}
	return nil
}
