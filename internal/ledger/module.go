package ledger

import (
	"embed"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrations are the module's schema steps.
func Migrations() db.Migrations {
	return db.Migrations{Module: "ledger", FS: db.Sub(migrationsFS, "migrations")}
}

// Tables lists the module's tables for demo resets. The log is append-only:
// a demo reset starts a new log (the old checkpoints no longer apply).
var Tables = []string{"ledger_cosignatures", "ledger_witnesses", "ledger_checkpoints", "ledger_org_keys", "ledger_tiles", "ledger_bundles", "ledger_state"}
