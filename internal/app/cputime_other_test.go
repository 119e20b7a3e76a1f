//go:build !unix

package app_test

import "time"

// cpuTime is not measured here (the benchmark's cpu-us/op reads 0).
func cpuTime() time.Duration { return 0 }

// written is not measured here (the benchmark's written-kb/op reads 0).
func written() int64 { return 0 }
