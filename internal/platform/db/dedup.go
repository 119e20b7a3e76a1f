package db

import (
	"context"
	"embed"
	"time"
)

//go:embed migrations/*.sql
var platformMigrations embed.FS

// PlatformMigrations are the tables the platform itself owns (bus consumer
// bookkeeping). The app applies them before any module's.
func PlatformMigrations() Migrations {
	return Migrations{Module: "platform", FS: mustSub(platformMigrations, "migrations")}
}

// Dedup records which bus events each consumer has processed, so that an
// at-least-once delivery is handled once. It satisfies bus.Dedup.
type Dedup struct{ DB *DB }

// Seen reports whether consumer already processed eventID.
func (d Dedup) Seen(ctx context.Context, consumer, eventID string) (bool, error) {
	var n int
	err := d.DB.QueryRow(ctx, `SELECT COUNT(*) FROM bus_processed WHERE consumer = ? AND event_id = ?`, consumer, eventID).Scan(&n)
	return n > 0, err
}

// Mark records that consumer processed eventID. Marking twice is harmless.
func (d Dedup) Mark(ctx context.Context, consumer, eventID string) error {
	_, err := d.DB.Exec(ctx, `INSERT INTO bus_processed (consumer, event_id, processed_at) VALUES (?, ?, ?)
		ON CONFLICT (consumer, event_id) DO NOTHING`, consumer, eventID, time.Now().UnixMilli())
	return err
}
