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

// LogTables are the tables of the log itself (a referenced table before
// the one referring to it): only the log's own statements and transactions
// write them, so a SQLite deployment may keep them in a file of their own
// (db.Side). The organisations' signing keys stay with the rest.
var LogTables = []string{"ledger_state", "ledger_bundles", "ledger_tiles", "ledger_checkpoints", "ledger_witnesses", "ledger_cosignatures"}
