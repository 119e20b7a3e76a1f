// Command shuzhi is the whole platform in one binary.
//
//	shuzhi serve [--demo]          run the platform
//	shuzhi migrate                 apply database migrations
//	shuzhi demo [--reset]          seed (or reset and reseed) the demo district
//	shuzhi user create|passwd|roles|list
//	shuzhi token issue|revoke|list
//	shuzhi ledger verify|prove|check|witness-add
//	shuzhi witness key|run
//	shuzhi version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `shuzhi — 数治 digital-government platform

Usage:
  shuzhi serve   [settings]            run the platform (SQLite and embedded NATS by default)
  shuzhi migrate [settings]            apply database migrations and exit
  shuzhi demo    [--reset] [settings]  seed the demo district (姑苏区); --reset wipes data first
  shuzhi user    create|passwd|roles|list [options]
  shuzhi token   issue|revoke|list [options]
  shuzhi ledger  verify | prove <index|leaf-hash> | check <proof-file> | witness-add --vkey K
  shuzhi witness key|run --name N --dir D --log URL   watch and cosign another node's ledger
  shuzhi version

Run "shuzhi serve --help" for every setting, its environment variable and default.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if errors.Is(err, errFailed) {
		os.Exit(1) // the findings are printed already
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shuzhi:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr, env)
	case "migrate":
		return migrate(ctx, rest, stdout, stderr, env)
	case "demo":
		return demoCmd(ctx, rest, stdout, stderr, env)
	case "user":
		return userCmd(ctx, rest, stdout, stderr, env)
	case "token":
		return tokenCmd(ctx, rest, stdout, stderr, env)
	case "ledger":
		return ledgerCmd(ctx, rest, stdout, stderr, env)
	case "witness":
		return witnessCmd(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "shuzhi", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
