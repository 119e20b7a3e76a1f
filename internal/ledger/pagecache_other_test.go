//go:build !linux

package ledger

import "errors"

// dropFromPageCache is Linux-only (posix_fadvise through a raw system call).
func dropFromPageCache(string) error {
	return errors.New("dropping a file from the page cache is implemented on Linux only")
}
