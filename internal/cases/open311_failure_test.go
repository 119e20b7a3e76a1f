package cases

import (
	"context"
	"database/sql/driver"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A request whose client went away may fail as a dropped connection rather
// than as the cancellation: 503 and no error logged, not a 500.
func TestOpen311FailureClientGone(t *testing.T) {
	t.Parallel()
	o := &open311{s: &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	for _, gone := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		if gone {
			cancel()
		}
		r := httptest.NewRequest("GET", "/open311/v2/requests.json", nil).WithContext(ctx)
		status, _ := o.failure(r, driver.ErrBadConn)
		cancel()
		want := http.StatusInternalServerError
		if gone {
			want = http.StatusServiceUnavailable
		}
		if status != want {
			t.Fatalf("client gone %v: status %d, want %d", gone, status, want)
		}
	}
}
