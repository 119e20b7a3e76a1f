//go:build !unix

package app_test

import "time"

// cpuTime is not measured here (the benchmark's cpu-us/op reads 0).
func cpuTime() time.Duration { return 0 }
