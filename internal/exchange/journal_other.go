//go:build !unix

package exchange

import "os"

// lockFile is a no-op where flock is not available: one process per data
// directory is then the operator's to ensure.
func lockFile(*os.File) error { return nil }
