package ledger

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Record is one attributable action, as modules hand it to the ledger. It
// never holds personal data: a person is referred to by a salted reference
// or hash, and the payload the module keeps is represented by its hash.
type Record struct {
	// Who acted.
	ActorKind string `json:"actorKind"` // user | system
	ActorID   string `json:"actorId"`
	ActorName string `json:"actorName"`
	OrgID     string `json:"orgId"` // the acting organisation ("" for the platform itself)
	// What and on what.
	Module  string `json:"module"`  // e.g. identity, exchange, cases
	Action  string `json:"action"`  // e.g. user.roles, share.grant, case.dispatch
	Subject string `json:"subject"` // e.g. user:<id>, dataset:<code>, person:<salted ref>
	// Why.
	Purpose string `json:"purpose,omitempty"` // purpose of use
	Basis   string `json:"basis,omitempty"`   // legal basis or rule
	// When (set by the caller; the ledger fills it when zero).
	Time time.Time `json:"-"`
	// PayloadHash is the hash (hex) of the payload the module keeps.
	PayloadHash string `json:"payloadHash,omitempty"`
	// RequestID ties the record to the request that caused it.
	RequestID string `json:"requestId,omitempty"`
	// Ref is the module's own id of the record (e.g. the audit entry id), so
	// a record appended twice after a crash is recognisable as one.
	Ref string `json:"ref,omitempty"`
}

// Kinds of ledger entries.
const (
	KindRecord      = "record"
	KindAttestation = "attestation"
)

// entry is the canonical form written to the log. Its JSON members are in
// lexicographic order, numbers are integers and HTML is not escaped, so the
// encoding is RFC 8785 (JCS) canonical JSON: any party can re-encode and
// check it.
type entry struct {
	ActorID     string `json:"actorId"`
	ActorKind   string `json:"actorKind"`
	ActorName   string `json:"actorName"`
	Action      string `json:"action"`
	Basis       string `json:"basis,omitempty"`
	Kind        string `json:"kind"`
	Module      string `json:"module"`
	OrgID       string `json:"orgId"`
	PayloadHash string `json:"payloadHash,omitempty"`
	Purpose     string `json:"purpose,omitempty"`
	Ref         string `json:"ref,omitempty"`
	RequestID   string `json:"requestId,omitempty"`
	Subject     string `json:"subject"`
	Time        int64  `json:"time"` // Unix milliseconds
	V           int    `json:"v"`
}

// Attestation is the acting organisation's signature over a run of its
// records in one commit: Digest = H(leaf hash of First || ... || leaf hash
// of First+Count-1), signed with the organisation's key. One signature
// covers a whole group commit, which keeps signing off the hot path.
type Attestation struct {
	Alg    string `json:"alg"`
	Count  int64  `json:"count"`
	Digest string `json:"digest"` // hex
	First  int64  `json:"first"`
	Key    string `json:"key"` // key id of the organisation's public key
	Kind   string `json:"kind"`
	OrgID  string `json:"orgId"`
	Sig    string `json:"sig"` // base64
	Time   int64  `json:"time"`
	V      int    `json:"v"`
}

const maxField = 512

// Validate checks a record before it is encoded.
func (r *Record) Validate() error {
	fields := []struct{ name, v string }{
		{"actorKind", r.ActorKind}, {"actorId", r.ActorID}, {"actorName", r.ActorName}, {"orgId", r.OrgID},
		{"module", r.Module}, {"action", r.Action}, {"subject", r.Subject}, {"purpose", r.Purpose},
		{"basis", r.Basis}, {"payloadHash", r.PayloadHash}, {"requestId", r.RequestID}, {"ref", r.Ref},
	}
	for _, f := range fields {
		if len(f.v) > maxField || !utf8.ValidString(f.v) {
			return errs.Invalid(f.name, "maxLength", "at most 512 bytes of UTF-8", "不超过 512 字节的 UTF-8 文本")
		}
	}
	for _, f := range []struct{ name, v string }{{"module", r.Module}, {"action", r.Action}, {"subject", r.Subject}, {"actorKind", r.ActorKind}} {
		if strings.TrimSpace(f.v) == "" {
			return errs.Invalid(f.name, "required", "must not be empty", "不能为空")
		}
	}
	if r.PayloadHash != "" {
		if _, err := hex.DecodeString(r.PayloadHash); err != nil {
			return errs.Invalid("payloadHash", "hex", "must be a hex digest", "应为十六进制摘要")
		}
	}
	return nil
}

// Encode returns the canonical bytes of the record as an entry.
func (r *Record) Encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	return canonical(entry{ActorID: r.ActorID, ActorKind: r.ActorKind, ActorName: r.ActorName, Action: r.Action, Basis: r.Basis,
		Kind: KindRecord, Module: r.Module, OrgID: r.OrgID, PayloadHash: r.PayloadHash, Purpose: r.Purpose, Ref: r.Ref, RequestID: r.RequestID,
		Subject: r.Subject, Time: t.UnixMilli(), V: 1})
}

func canonical(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Entry is a decoded log entry, for display and verification.
type Entry struct {
	Index    int64           `json:"index"`
	LeafHash string          `json:"leafHash"` // hex
	Kind     string          `json:"kind"`
	Data     json.RawMessage `json:"data" doc:"The entry exactly as logged (canonical JSON)"`
}
