package authz

import (
	"context"
	"testing"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

func TestScope(t *testing.T) {
	t.Parallel()
	street := &Principal{Scope: "320508001"}
	cases := []struct {
		name  string
		short string
		want  bool
	}{
		{"own street", "320508001", true},
		{"community in own street", "320508001003", true},
		{"other street", "320508002", false},
		{"community of other street", "320508002001", false},
		{"parent district", "320508", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := street.InScope(c.short); got != c.want {
				t.Fatalf("InScope(%q) = %v, want %v", c.short, got, c.want)
			}
		})
	}
	t.Run("empty scope sees nothing", func(t *testing.T) {
		if (&Principal{}).InScope("32") {
			t.Fatal("a principal without scope sees data")
		}
	})
}

func TestRequire(t *testing.T) {
	t.Parallel()
	if _, err := Require(context.Background(), UsersRead); errs.CodeOf(err) != errs.CodeUnauthenticated {
		t.Fatalf("anonymous: %v", err)
	}
	p := &Principal{Permissions: PermissionsOf([]Role{DeptStaff})}
	ctx := With(context.Background(), p)
	if _, err := Require(ctx, UsersRead); err != nil {
		t.Fatalf("staff reading users: %v", err)
	}
	if _, err := Require(ctx, UsersWrite); errs.CodeOf(err) != errs.CodeForbidden {
		t.Fatalf("staff writing users: %v", err)
	}
}

func TestSeparationOfAdminRoles(t *testing.T) {
	t.Parallel()
	sys, sec, aud := PermissionsOf([]Role{SysAdmin}), PermissionsOf([]Role{SecAdmin}), PermissionsOf([]Role{Auditor})
	has := func(ps []Permission, p Permission) bool {
		for _, x := range ps {
			if x == p {
				return true
			}
		}
		return false
	}
	if has(sys, UsersSecurity) || has(sys, AuditRead) || has(sys, TokensManage) {
		t.Error("system administrator holds security or audit permissions")
	}
	if has(sec, UsersWrite) || has(sec, AuditRead) || has(sec, OrgsWrite) {
		t.Error("security administrator holds account or audit permissions")
	}
	if has(aud, UsersWrite) || has(aud, UsersSecurity) || has(aud, DivisionsWrite) {
		t.Error("auditor holds write permissions")
	}
	for _, r := range Roles {
		if !r.Code.Valid() {
			t.Errorf("role %s not valid", r.Code)
		}
	}
	if Role("root").Valid() {
		t.Error("unknown role accepted")
	}
}

func TestScopeRangeMatchesPrefix(t *testing.T) {
	t.Parallel()
	keys := []string{"32", "3205", "320508", "320508017", "320508018", "320508018001", "320508018999", "320508019", "320509", "33"}
	in := func(lo, hi, k string) bool { return k >= lo && k < hi }
	for _, p := range []*Principal{{Scope: "320508018"}, {Scope: "320508"}, {Nationwide: true}, {}} {
		lo, hi := p.ScopeRange()
		for _, k := range keys {
			if got, want := in(lo, hi, k), p.InScope(k); got != want {
				t.Errorf("scope %q nationwide=%v key %s: range says %v, InScope says %v", p.Scope, p.Nationwide, k, got, want)
			}
		}
	}
}
