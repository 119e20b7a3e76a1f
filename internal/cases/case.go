package cases

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// Case is one city event or component problem in the loop.
type Case struct {
	ID            string  `json:"id"`
	No            string  `json:"no" doc:"Case number: district (6) + date (8) + daily serial (6)"`
	Channel       string  `json:"channel" enum:"grid,portal,open311,hotline,sensor,video,referral"`
	State         State   `json:"state" enum:"reported,filed,dispatched,handled,closed,rejected,merged,suspended"`
	Category      string  `json:"category"`
	CategoryName  string  `json:"categoryName"`
	Confidence    float64 `json:"confidence" doc:"Classifier confidence of the category (1 when given by the reporter or an operator)"`
	ClassifiedBy  string  `json:"classifiedBy" enum:"reporter,model,operator,rule,"`
	Description   string  `json:"description"`
	Address       string  `json:"address"`
	Lon           float64 `json:"lon"`
	Lat           float64 `json:"lat"`
	Grid          string  `json:"grid"`
	GridName      string  `json:"gridName,omitempty"`
	RespGrid      string  `json:"respGrid,omitempty"`
	Community     string  `json:"community"`
	Street        string  `json:"street"`
	District      string  `json:"district"`
	Component     string  `json:"component,omitempty"`
	DedupKey      string  `json:"dedupKey,omitempty"`
	Dept          string  `json:"dept"`
	OrgID         string  `json:"orgId"`
	OrgName       string  `json:"orgName"`
	ReporterKind  string  `json:"reporterKind" enum:"user,public,system"`
	ReporterID    string  `json:"reporterId,omitempty"`
	Reporter      string  `json:"reporter" doc:"Reporter's name and phone, masked"`
	ExternalID    string  `json:"externalId,omitempty"`
	Supervised    int     `json:"supervised" doc:"督办: 0 none, 1 by the unit's head, 2 by the operations centre"`
	Warning       int     `json:"warning" doc:"0 none, 1 yellow (deadline near), 2 red (overdue)"`
	Reworks       int     `json:"reworks"`
	Returns       int     `json:"returns"`
	Repeats       int     `json:"repeats" doc:"Repeated alarms and merged reports"`
	DuplicateOf   string  `json:"duplicateOf,omitempty"`
	PostponeReq   int64   `json:"postponeRequested,omitempty" doc:"Requested new deadline awaiting approval (unix ms)"`
	FiledAt       int64   `json:"filedAt,omitempty"`
	DispatchedAt  int64   `json:"dispatchedAt,omitempty"`
	FirstDispatch int64   `json:"firstDispatchedAt,omitempty"`
	YellowAt      int64   `json:"yellowAt,omitempty"`
	DeadlineAt    int64   `json:"deadlineAt,omitempty"`
	SuspendedAt   int64   `json:"suspendedAt,omitempty"`
	HandledAt     int64   `json:"handledAt,omitempty"`
	ClosedAt      int64   `json:"closedAt,omitempty"`
	HandlerID     string  `json:"handlerId,omitempty"`
	VerifierID    string  `json:"verifierId,omitempty"`
	Rating        string  `json:"rating,omitempty" enum:"satisfied,basically,dissatisfied,"`
	RatingComment string  `json:"ratingComment,omitempty"`
	RatedAt       int64   `json:"ratedAt,omitempty"`
	Version       int     `json:"version"`
	CreatedAt     int64   `json:"createdAt"`
	UpdatedAt     int64   `json:"updatedAt"`

	// Stored, never served as such.
	reporterName, reporterPhone, token string
}

const caseColumns = `id, no, channel, state, category, confidence, classified_by, description, address, lon, lat, grid_code, scope_key, resp_grid, community, street, district,
	component, dedup_key, dept, org_id, org_name, reporter_kind, reporter_id, reporter_name, reporter_phone, reporter_mask, external_id, token, supervised, warning,
	reworks, returns, repeats, duplicate_of, postpone_req, filed_at, dispatched_at, first_dispatched_at, yellow_at, deadline_at, suspended_at, handled_at, closed_at,
	handler_id, verifier_id, rating, rating_comment, rated_at, version, created_at, updated_at`

func (s *Service) scanCase(sc interface{ Scan(...any) error }) (*Case, error) {
	var c Case
	var state, scope string
	err := sc.Scan(&c.ID, &c.No, &c.Channel, &state, &c.Category, &c.Confidence, &c.ClassifiedBy, &c.Description, &c.Address, &c.Lon, &c.Lat, &c.Grid, &scope, &c.RespGrid,
		&c.Community, &c.Street, &c.District, &c.Component, &c.DedupKey, &c.Dept, &c.OrgID, &c.OrgName, &c.ReporterKind, &c.ReporterID, &c.reporterName,
		&c.reporterPhone, &c.Reporter, &c.ExternalID, &c.token, &c.Supervised, &c.Warning, &c.Reworks, &c.Returns, &c.Repeats, &c.DuplicateOf, &c.PostponeReq,
		&c.FiledAt, &c.DispatchedAt, &c.FirstDispatch, &c.YellowAt, &c.DeadlineAt, &c.SuspendedAt, &c.HandledAt, &c.ClosedAt, &c.HandlerID, &c.VerifierID,
		&c.Rating, &c.RatingComment, &c.RatedAt, &c.Version, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	c.State = State(state)
	if cat, ok := s.category(c.Category); ok {
		c.CategoryName = cat.NameZh
	}
	return &c, nil
}

func (c *Case) open() bool {
	switch c.State {
	case Reported, Filed, Dispatched, Handled, Suspended:
		return true
	}
	return false
}

// Event is one step of a case's timeline.
type Event struct {
	ID        string          `json:"id"`
	Seq       int             `json:"seq"`
	Action    string          `json:"action"`
	From      State           `json:"from"`
	To        State           `json:"to"`
	ActorKind string          `json:"actorKind"`
	ActorID   string          `json:"actorId"`
	ActorName string          `json:"actorName"`
	OrgID     string          `json:"orgId"`
	Note      string          `json:"note,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	At        int64           `json:"at"`
}

// Evidence is a consequential action of the cases module, for the ledger:
// every transition of a case and every change of its reference data. The
// subject is the case number (case:<no>); reporters appear only masked; the
// payload is kept by the ledger as a hash.
type Evidence struct {
	ActorKind string          `json:"actorKind"`
	ActorID   string          `json:"actorId"`
	ActorName string          `json:"actorName"`
	OrgID     string          `json:"orgId"`
	Action    string          `json:"action"`
	Subject   string          `json:"subject"`
	At        time.Time       `json:"at"`
	RequestID string          `json:"requestId,omitempty"`
	Ref       string          `json:"ref"`
	Payload   json.RawMessage `json:"payload,omitempty"`
}

// EventType implements bus.Event.
func (Evidence) EventType() string { return "cases.evidence" }

// evidence emits a reference-data action in the caller's transaction.
func (s *Service) evidence(ctx context.Context, p *authz.Principal, action, subject string, payload any) error {
	ev := Evidence{Action: action, Subject: subject, At: s.now().UTC(), RequestID: httpx.RequestID(ctx), Ref: newID()}
	if p != nil {
		ev.ActorKind, ev.ActorID, ev.ActorName, ev.OrgID = string(p.Kind), p.ID, p.Name, p.OrgID
	}
	ev.Payload, _ = json.Marshal(payload)
	return s.putEvidence(ctx, ev)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// seal encrypts a reporter's personal value bound to the case.
func (s *Service) seal(value, caseID, field string) (string, error) {
	if value == "" {
		return "", nil
	}
	ct, err := s.cipher.Encrypt([]byte(value), []byte("cases:"+caseID+":"+field))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

func (s *Service) unseal(enc, caseID, field string) (string, error) {
	if enc == "" {
		return "", nil
	}
	ct, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", err
	}
	pt, err := s.cipher.Decrypt(ct, []byte("cases:"+caseID+":"+field))
	return string(pt), err
}

func maskReporter(name, phone string) string {
	var parts []string
	if name != "" {
		parts = append(parts, idcode.MaskName(name))
	}
	if phone != "" {
		parts = append(parts, idcode.MaskPhone(phone))
	}
	return strings.Join(parts, " ")
}

// areaCache keeps the area rules for a second (they change rarely and are
// read on every dispatch).
type areaCache struct {
	mu    sync.Mutex
	rules []AreaRule
	at    time.Time
}

func (s *Service) cachedAreaRules(ctx context.Context) ([]AreaRule, error) {
	s.areas.mu.Lock()
	defer s.areas.mu.Unlock()
	if s.areas.rules != nil && time.Since(s.areas.at) < time.Second {
		return s.areas.rules, nil
	}
	r, err := s.areaRules(ctx)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = []AreaRule{}
	}
	s.areas.rules, s.areas.at = r, time.Now()
	return r, nil
}

func (s *Service) forgetAreaRules() {
	s.areas.mu.Lock()
	s.areas.rules = nil
	s.areas.mu.Unlock()
}
