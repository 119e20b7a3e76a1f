package app

import (
	"github.com/shuzhi-gov/shuzhi/internal/cases"
	"github.com/shuzhi-gov/shuzhi/internal/exchange"
	"github.com/shuzhi-gov/shuzhi/internal/geo"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/ledger"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/workcal"
	"github.com/shuzhi-gov/shuzhi/internal/registry"
)

// This file lists every module. A new module adds its migrations (in
// dependency order), its tables (for demo resets) and its routes (in
// routes, server.go) here, and nowhere else.

func migrations() []db.Migrations {
	return []db.Migrations{
		db.PlatformMigrations(),
		identity.Migrations(),
		geo.Migrations(),
		registry.Migrations(),
		ledger.Migrations(),
		workcal.Migrations(),
		cases.Migrations(),
		exchange.Migrations(),
	}
}

// tables lists every module's tables, dependants first, for demo resets.
func tables() []string {
	var out []string
	out = append(out, exchange.Tables...)
	out = append(out, cases.Tables...)
	out = append(out, ledger.Tables...)
	out = append(out, registry.Tables...)
	out = append(out, geo.Tables...)
	out = append(out, identity.Tables...)
	return out
}
