package ledger

import (
	"bytes"
	"context"
	"encoding/hex"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// FindLeaf returns the index of the entry with the given leaf hash (hex),
// scanning the level-0 hash tiles.
func (l *Log) FindLeaf(ctx context.Context, leafHex string) (int64, error) {
	want, err := hex.DecodeString(leafHex)
	if err != nil || len(want) != 32 {
		return 0, errs.Invalid("leafHash", "hex", "a leaf hash is 64 hex digits", "叶子哈希应为 64 位十六进制")
	}
	rows, err := l.db.Query(ctx, `SELECT n, data FROM ledger_tiles WHERE level = 0 ORDER BY n`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		var data []byte
		if err := rows.Scan(&n, &data); err != nil {
			return 0, err
		}
		for i := 0; i+32 <= len(data); i += 32 {
			if bytes.Equal(data[i:i+32], want) {
				return n*256 + int64(i/32), nil
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return 0, errs.NotFound("entry", leafHex)
}
