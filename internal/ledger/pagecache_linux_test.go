package ledger

import (
	"os"
	"syscall"
)

// dropFromPageCache writes a file's dirty pages out and asks the kernel to
// drop its pages from the OS page cache (posix_fadvise POSIX_FADV_DONTNEED
// drops clean pages only), so that the next reads come from the disk.
func dropFromPageCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	const fadvDontNeed = 4
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); e != 0 {
		return e
	}
	return nil
}
