// Package machine measures the machine the benchmarks run on, so that
// docs/PERFORMANCE.md can say how much of a latency percentile the machine
// itself accounts for.
//
//	go test -run '^$' -bench CoreStalls -benchtime 1000x ./bench/machine/
//
// BenchmarkCoreStalls runs one spinning thread per core (GOMAXPROCS of
// them, each locked to its OS thread) with nothing else to do: each reads
// the monotonic clock in a loop, and a jump between two reads is time the
// thread did not run — the kernel or, on a virtual machine, the hypervisor
// gave its core to something else. One op is 10 ms of spinning; it reports
// per core and second the stalls over 1 ms and over 5 ms, the longest
// stall, and the share of time lost to stalls over 0.2 ms and over 5 ms.
// A request that needs a core during a 5 ms stall is at least 5 ms late,
// however little work it does.
package machine

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

type stalls struct {
	over1, over5 int
	lost, lost5  time.Duration
	longest      time.Duration
}

func spin(d time.Duration) stalls {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var s stalls
	start := time.Now()
	last := start
	for {
		now := time.Now()
		gap := now.Sub(last)
		last = now
		if gap > 200*time.Microsecond {
			s.lost += gap
			if gap > time.Millisecond {
				s.over1++
			}
			if gap > 5*time.Millisecond {
				s.over5++
				s.lost5 += gap
			}
			s.longest = max(s.longest, gap)
		}
		if now.Sub(start) >= d {
			return s
		}
	}
}

func BenchmarkCoreStalls(b *testing.B) {
	cores := runtime.GOMAXPROCS(0)
	d := time.Duration(b.N) * 10 * time.Millisecond
	res := make([]stalls, cores)
	var wg sync.WaitGroup
	for i := range cores {
		wg.Go(func() { res[i] = spin(d) })
	}
	wg.Wait()
	var all stalls
	for _, s := range res {
		all.over1 += s.over1
		all.over5 += s.over5
		all.lost += s.lost
		all.lost5 += s.lost5
		all.longest = max(all.longest, s.longest)
	}
	coreSec := float64(cores) * d.Seconds()
	b.ReportMetric(float64(all.over1)/coreSec, "over1ms/core-s")
	b.ReportMetric(float64(all.over5)/coreSec, "over5ms/core-s")
	b.ReportMetric(float64(all.longest.Microseconds())/1000, "longest-ms")
	b.ReportMetric(100*all.lost.Seconds()/coreSec, "lost-%")
	b.ReportMetric(100*all.lost5.Seconds()/coreSec, "lost-in-5ms-%")
}
