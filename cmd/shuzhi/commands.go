package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/app"
	"github.com/shuzhi-gov/shuzhi/internal/demo"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/config"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/obs"
)

func version() string { return app.FullVersion() }

// newFlags returns a flag set whose usage lists the command's own flags and
// every platform setting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: shuzhi %s\n\nSettings (flag, environment variable, default; precedence flag > env > config file > default):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func openCore(ctx context.Context, fs *flag.FlagSet, args []string, stderr io.Writer, env func(string) string) (*app.Core, *config.Config, error) {
	cfg, err := config.Load(fs, args, env)
	if err != nil {
		return nil, nil, err
	}
	log := obs.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	slog.SetDefault(log) // main owns the process; libraries log through it
	core, err := app.Open(ctx, cfg, log)
	return core, cfg, err
}

func seedDemo(ctx context.Context, core *app.Core, cfg *config.Config, out io.Writer) error {
	res, err := demo.Seed(ctx, demo.Services{DB: core.DB, Identity: core.Identity, Geo: core.Geo, Registry: core.Registry, Cases: core.Cases, Exchange: core.Exchange, HashPassword: crypto.HashPassword}, cfg.DemoSeed, cfg.DemoSize)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if res.Seeded {
		fmt.Fprintf(out, "Demo district 苏州市姑苏区 seeded in %s: %d divisions, %d grids, %d organisations, %d users; base data: %d people, %d buildings, %d enterprises and organisations, %d components (seed %d, size %d).\n",
			res.Took.Round(time.Millisecond), res.Divisions, res.Grids, res.Orgs, res.Users, res.People, res.Buildings, res.Entities, res.Components, cfg.DemoSeed, cfg.DemoSize)
	} else {
		fmt.Fprintln(out, "Demo district 苏州市姑苏区 is already present.")
	}
	fmt.Fprintf(out, "Demo users (password %s):\n", demo.Password)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	for _, a := range res.Accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Username, a.Role, a.Name, a.Where)
	}
	return tw.Flush()
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	fs := newFlags("serve", "serve [settings]", stderr)
	start := time.Now()
	core, cfg, err := openCore(ctx, fs, args, stderr, env)
	if err != nil {
		return err
	}
	if cfg.Demo {
		if err := seedDemo(ctx, core, cfg, stdout); err != nil {
			core.Close()
			return err
		}
	}
	srv, err := app.NewServer(ctx, core)
	if err != nil {
		core.Close()
		return err
	}
	addr, err := srv.Listen()
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, srv.Describe(addr))
	fmt.Fprintf(stdout, "  ready in %s\n", time.Since(start).Round(time.Millisecond))
	return srv.Serve(ctx)
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	fs := newFlags("migrate", "migrate [settings]", stderr)
	core, _, err := openCore(ctx, fs, args, stderr, env)
	if err != nil {
		return err
	}
	defer core.Close()
	v, err := core.DB.AppliedVersions(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s is at:", core.DB.Dialect())
	for _, m := range []string{"platform", "identity", "geo"} {
		fmt.Fprintf(stdout, " %s=%d", m, v[m])
	}
	fmt.Fprintln(stdout)
	return nil
}

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	fs := newFlags("demo", "demo [--reset] [settings]", stderr)
	reset := fs.Bool("reset", false, "delete all data (keeping schema and keys) before seeding")
	core, cfg, err := openCore(ctx, fs, args, stderr, env)
	if err != nil {
		return err
	}
	defer core.Close()
	if *reset {
		if err := core.ResetData(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "All data deleted.")
	}
	return seedDemo(ctx, core, cfg, stdout)
}

func system(ctx context.Context) context.Context {
	return authz.With(ctx, identity.System("cli:"+currentUser()))
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

func readPassword(flagValue string, stdin io.Reader) (string, error) {
	if flagValue != "-" {
		return flagValue, nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 1024))
	return strings.TrimRight(string(b), "\r\n"), err
}

func parseRoles(s string) []authz.Role {
	var out []authz.Role
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, authz.Role(r))
		}
	}
	return out
}

func userCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("user: want create, passwd, roles or list")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("user "+sub, "user "+sub+" [options] [settings]", stderr)
	username := fs.String("username", "", "login name")
	name := fs.String("name", "", "display name (create)")
	password := fs.String("password", "", "password, or - to read it from standard input")
	org := fs.String("org", "", "organisation id or code (create)")
	division := fs.String("division", "", "division code (create; defaults to the organisation's)")
	roles := fs.String("roles", "", "comma-separated roles, e.g. sys_admin or dept_staff,dept_head")
	q := fs.String("q", "", "search (list)")
	core, _, err := openCore(ctx, fs, args, stderr, env)
	if err != nil {
		return err
	}
	defer core.Close()
	ctx = system(ctx)
	ids := core.Identity
	switch sub {
	case "create":
		pw, err := readPassword(*password, os.Stdin)
		if err != nil {
			return err
		}
		orgID, err := resolveOrg(ctx, ids, *org)
		if err != nil {
			return err
		}
		u, err := ids.CreateUserWithRoles(ctx, identity.NewUser{Username: *username, DisplayName: *name, Password: pw, OrgID: orgID, DivisionCode: *division}, parseRoles(*roles))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s (%s) with roles %v in %s\n", u.Username, u.ID, u.Roles, u.DivisionName)
	case "passwd":
		pw, err := readPassword(*password, os.Stdin)
		if err != nil {
			return err
		}
		id, err := ids.UserIDByUsername(ctx, *username)
		if err != nil {
			return err
		}
		if err := ids.ResetPassword(ctx, id, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s reset; the account is unlocked and its sessions ended\n", *username)
	case "roles":
		id, err := ids.UserIDByUsername(ctx, *username)
		if err != nil {
			return err
		}
		u, err := ids.SetRoles(ctx, id, parseRoles(*roles))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s now has roles %v\n", u.Username, u.Roles)
	case "list":
		users, total, err := ids.ListUsers(ctx, identity.UserFilter{Q: *q}, 1000, 0)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tNAME\tROLES\tDIVISION\tSTATUS")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", u.Username, u.DisplayName, u.Roles, u.DivisionName, u.Status)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d of %d users\n", len(users), total)
	default:
		return fmt.Errorf("user: unknown subcommand %q (want create, passwd, roles or list)", sub)
	}
	return nil
}

func resolveOrg(ctx context.Context, ids *identity.Service, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	if o, err := ids.GetOrg(ctx, ref); err == nil {
		return o.ID, nil
	}
	orgs, _, err := ids.ListOrgs(ctx, identity.OrgFilter{Q: ref}, 2, 0)
	if err != nil {
		return "", err
	}
	if len(orgs) != 1 {
		return "", fmt.Errorf("--org %q: want exactly one organisation by id, code or name, found %d", ref, len(orgs))
	}
	return orgs[0].ID, nil
}

func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("token: want issue, revoke or list")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("token "+sub, "token "+sub+" [options] [settings]", stderr)
	name := fs.String("name", "", "token name, e.g. the calling system (issue)")
	org := fs.String("org", "", "organisation id, code or name the token acts for (issue, list)")
	scopes := fs.String("scopes", "divisions:read,orgs:read", "comma-separated scopes (issue)")
	days := fs.Int("days", 90, "validity in days, 1-366 (issue)")
	id := fs.String("id", "", "token id (revoke)")
	core, _, err := openCore(ctx, fs, args, stderr, env)
	if err != nil {
		return err
	}
	defer core.Close()
	ctx = system(ctx)
	ids := core.Identity
	switch sub {
	case "issue":
		orgID, err := resolveOrg(ctx, ids, *org)
		if err != nil {
			return err
		}
		var sc []string
		for _, s := range strings.Split(*scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				sc = append(sc, s)
			}
		}
		t, secret, err := ids.IssueToken(ctx, identity.NewToken{Name: *name, OrgID: orgID, Scopes: sc, ExpiresInDays: *days})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "issued token %s for %s, scopes %v, expires %s; the token is shown only once:\n", t.ID, t.OrgName, t.Scopes, t.ExpiresAt.Format(time.DateOnly))
		fmt.Fprintln(stdout, secret)
	case "revoke":
		if err := ids.RevokeToken(ctx, *id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %s revoked\n", *id)
	case "list":
		orgID, err := resolveOrg(ctx, ids, *org)
		if err != nil {
			return err
		}
		tokens, total, err := ids.ListTokens(ctx, orgID, "", 1000, 0)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tORG\tSCOPES\tSTATUS\tEXPIRES")
		for _, t := range tokens {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.OrgName, strings.Join(t.Scopes, ","), t.Status, t.ExpiresAt.Format(time.DateOnly))
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d of %d tokens\n", len(tokens), total)
	default:
		return fmt.Errorf("token: unknown subcommand %q (want issue, revoke or list)", sub)
	}
	return nil
}
