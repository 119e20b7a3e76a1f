package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb, func(string) string { return "" })
	return out.String(), errb.String(), err
}

func TestCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := []string{"--data-dir", dir, "--log-level", "error"}
	step := func(name string, args []string, wantOut string) string {
		t.Helper()
		out, errOut, err := runCLI(t, append(args, data...)...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, errOut)
		}
		if !strings.Contains(out+errOut, wantOut) {
			t.Fatalf("%s: output lacks %q:\n%s%s", name, wantOut, out, errOut)
		}
		return out
	}
	step("migrate", []string{"migrate"}, "identity=1")
	step("demo", []string{"demo", "--demo-size", "1000"}, "Demo users (password Shuzhi@2026)")
	step("demo again", []string{"demo", "--demo-size", "1000"}, "already present")
	step("user create", []string{"user", "create", "--username", "ops", "--name", "运维", "--password", "Ops-pass-2026", "--org", "平江街道办事处", "--roles", "dept_staff,dept_head"}, "created user ops")
	step("user list", []string{"user", "list", "--q", "ops"}, "1 of 1 users")
	step("user roles", []string{"user", "roles", "--username", "ops", "--roles", "leader"}, "[leader]")
	step("user passwd", []string{"user", "passwd", "--username", "ops", "--password", "New-pass-2026"}, "reset")
	token := strings.TrimSpace(step("token issue", []string{"token", "issue", "--org", "平江街道办事处", "--name", "民政系统", "--scopes", "users:read"}, "shz_"))
	if !strings.HasPrefix(token, "shz_") || strings.Contains(token, "\n") {
		t.Fatalf("token output %q is not just the token", token)
	}
	list := step("token list", []string{"token", "list"}, "民政系统")
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	step("token revoke", []string{"token", "revoke", "--id", id}, "revoked")
	step("token list after revoke", []string{"token", "list"}, "revoked")
	step("demo reset", []string{"demo", "--reset", "--demo-size", "1000"}, "All data deleted.")
	if out, _, _ := runCLI(t, append([]string{"user", "list", "--q", "ops"}, data...)...); !strings.Contains(out, "0 of 0 users") {
		t.Fatalf("reset kept users: %s", out)
	}
	t.Run("errors name the problem", func(t *testing.T) {
		cases := []struct {
			args []string
			want string
		}{
			{[]string{"frobnicate"}, "unknown command"},
			{[]string{"user", "create", "--username", "x y", "--name", "n", "--password", "Abc-12345"}, "username"},
			{[]string{"user", "create", "--username", "twoadmins", "--name", "n", "--password", "Abc-12345", "--division", "320508", "--roles", "sys_admin,auditor"}, "separation"},
			{[]string{"serve", "--crypto-profile", "rsa"}, "crypto-profile"},
		}
		for _, c := range cases {
			_, _, err := runCLI(t, append(c.args, data...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v: err %v, want mention of %q", c.args, err, c.want)
			}
		}
	})
}

func TestServeHelpDocumentsEverySetting(t *testing.T) {
	t.Parallel()
	_, errOut, err := runCLI(t, "serve", "--help")
	if err == nil || !strings.Contains(err.Error(), "help") {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"-data-dir", "SHUZHI_DATA_DIR", `default "./data"`, "-listen", `default "127.0.0.1:8080"`, "-db", "-nats", "-mqtt", "-crypto-profile", "-demo-size", "-config"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "shuzhi ") {
		t.Fatalf("%q %v", out, err)
	}
}

func TestLedgerCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := []string{"--data-dir", dir, "--log-level", "error"}
	run := func(args ...string) (string, error) {
		t.Helper()
		out, errOut, err := runCLI(t, append(args, data...)...)
		return out + errOut, err
	}
	wdir := t.TempDir()
	vkey, _, err := runCLI(t, "witness", "key", "--name", "audit.test/w", "--dir", wdir)
	if err != nil || !strings.HasPrefix(vkey, "audit.test/w+") {
		t.Fatalf("witness key: %q %v", vkey, err)
	}
	// Registering a witness is itself recorded on the ledger (entry 0, its
	// attestation entry 1), and closing the log signs a checkpoint.
	if out, err := run("ledger", "witness-add", "--vkey", strings.TrimSpace(vkey)); err != nil || !strings.Contains(out, "registered") {
		t.Fatalf("witness-add: %s %v", out, err)
	}
	if out, err := run("ledger", "verify"); err != nil || !strings.Contains(out, "OK") || !strings.Contains(out, "2 entries") {
		t.Fatalf("verify: %s %v", out, err)
	}
	proof, err := run("ledger", "prove", "0")
	if err != nil || !strings.Contains(proof, `"index": 0`) {
		t.Fatalf("prove: %s %v", proof, err)
	}
	file := dir + "/proof.json"
	if err := os.WriteFile(file, []byte(proof), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "ledger", "check", file)
	if err != nil || !strings.Contains(out, "OK: entry 0 is in the log") {
		t.Fatalf("check: %s %v", out, err)
	}
	// A proof file whose entry was altered is refused.
	bad := strings.Replace(proof, "witness.add", "witness.del", 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI(t, "ledger", "check", file)
	if !errors.Is(err, errFailed) || !strings.Contains(out, "FAILED") {
		t.Fatalf("tampered proof: %s %v", out, err)
	}
	if _, err := run("ledger", "prove", "7"); err == nil {
		t.Fatal("proved an entry that does not exist")
	}
}
