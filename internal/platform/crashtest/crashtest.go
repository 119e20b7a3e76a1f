// Package crashtest runs a helper test of the current test binary in a
// child process and kills it with SIGKILL in the middle of its work, for
// tests that check what survives a crash.
package crashtest

import (
	"bufio"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// KillDuring starts this test binary with only the test named helper
// selected and env added to its environment, passes each line the child
// prints to line until line returns false, the output ends or within
// passes, then kills the child with SIGKILL and waits for it. It returns
// how many lines line saw.
func KillDuring(t testing.TB, helper string, env []string, within time.Duration, line func(string) bool) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(within)
	n := 0
	for time.Now().Before(deadline) && sc.Scan() {
		n++
		if !line(sc.Text()) {
			break
		}
	}
	return n
}
