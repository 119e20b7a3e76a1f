package identity

import (
	"context"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
)

// Events the module publishes (through the outbox, so an event exists if and
// only if its change was committed). Change is the audit action, e.g.
// "user.roles" or "token.revoke".

// UserChanged reports a change to an account.
type UserChanged struct {
	UserID string         `json:"userId"`
	Change string         `json:"change"`
	Detail map[string]any `json:"detail,omitempty"`
}

func (UserChanged) EventType() string { return "identity.user.changed" }

// OrgChanged reports a change to an organisation.
type OrgChanged struct {
	OrgID  string         `json:"orgId"`
	Change string         `json:"change"`
	Detail map[string]any `json:"detail,omitempty"`
}

func (OrgChanged) EventType() string { return "identity.org.changed" }

// DivisionChanged reports a change to a division.
type DivisionChanged struct {
	Code   string         `json:"code"`
	Change string         `json:"change"`
	Detail map[string]any `json:"detail,omitempty"`
}

func (DivisionChanged) EventType() string { return "identity.division.changed" }

// TokenChanged reports an API token issued or revoked.
type TokenChanged struct {
	TokenID string `json:"tokenId"`
	Change  string `json:"change"`
}

func (TokenChanged) EventType() string { return "identity.token.changed" }

// Audited carries every audit entry (administrative changes, logins and
// failures) to the ledger, which records it as evidence.
type Audited struct {
	Entry AuditEntry `json:"entry"`
}

func (Audited) EventType() string { return "identity.audited" }

// Emitter records events in the caller's transaction (the outbox).
type Emitter interface {
	Emit(ctx context.Context, ev bus.Event, subject string) error
}

// eventFor maps an audited change to its domain event (nil for actions
// that are not changes, such as logins).
func eventFor(action, subject string, detail map[string]any) bus.Event {
	_, id, _ := strings.Cut(subject, ":")
	switch {
	case strings.HasPrefix(action, "user."):
		return UserChanged{UserID: id, Change: action, Detail: detail}
	case strings.HasPrefix(action, "org."):
		return OrgChanged{OrgID: id, Change: action, Detail: detail}
	case strings.HasPrefix(action, "division."):
		return DivisionChanged{Code: id, Change: action, Detail: detail}
	case strings.HasPrefix(action, "token."):
		return TokenChanged{TokenID: id, Change: action}
	}
	return nil
}
