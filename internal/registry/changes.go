package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// Record kinds.
const (
	KindPerson    = "person"
	KindBuilding  = "building"
	KindComponent = "component"
	KindEntity    = "entity"
)

// fieldSpec describes one changeable field of a kind.
type fieldSpec struct {
	col       string // column (the encrypted one for personal fields)
	maskCol   string // masked copy of a personal field
	mask      func(string) string
	sensitive bool
	// normalize validates a new value and returns its stored text form.
	normalize func(field, v string) (string, error)
}

type kindSpec struct {
	table, key string
	fields     map[string]fieldSpec
	// ref is the record's reference on the ledger.
	ref func(key, blind string) string
}

func enumOf(values ...string) func(string, string) (string, error) {
	return func(field, v string) (string, error) {
		if !slices.Contains(values, v) {
			return "", errs.Invalid(field, "enum", "one of "+strings.Join(values, ", "), "应为以下之一："+strings.Join(values, "、"))
		}
		return v, nil
	}
}

func boolText(field, v string) (string, error) {
	switch v {
	case "true", "1", "是":
		return "1", nil
	case "false", "0", "否":
		return "0", nil
	}
	return "", errs.Invalid(field, "boolean", "true or false", "应为 true 或 false")
}

func textOf(max int) func(string, string) (string, error) {
	return func(field, v string) (string, error) {
		v = strings.TrimSpace(v)
		if v == "" || len([]rune(v)) > max || strings.ContainsAny(v, "\x00\r\n") {
			return "", errs.Invalid(field, "length", fmt.Sprintf("1 to %d characters, one line", max), fmt.Sprintf("应为 1 到 %d 个字，不换行", max))
		}
		return v, nil
	}
}

func intIn(lo, hi int) func(string, string) (string, error) {
	return func(field, v string) (string, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return "", errs.Invalid(field, "range", fmt.Sprintf("a whole number from %d to %d", lo, hi), fmt.Sprintf("应为 %d 到 %d 的整数", lo, hi))
		}
		return strconv.Itoa(n), nil
	}
}

var kinds = map[string]kindSpec{
	KindPerson: {table: "reg_people", key: "id", ref: func(_, blind string) string { return "person:" + blind },
		fields: map[string]fieldSpec{
			"name":       {col: "name_enc", maskCol: "name_mask", mask: idcode.MaskName, sensitive: true, normalize: validName},
			"phone":      {col: "phone_enc", maskCol: "phone_mask", mask: idcode.MaskPhone, sensitive: true, normalize: validPhone},
			"relation":   {col: "relation", normalize: textOf(16)},
			"registered": {col: "registered", normalize: boolText},
			"resident":   {col: "resident", normalize: boolText},
			"status":     {col: "status", normalize: enumOf(StatusActive, StatusMovedOut, StatusDeceased)},
			"address":    {col: "address_id", normalize: textOf(128)},
		}},
	KindBuilding: {table: "reg_buildings", key: "code", ref: func(k, _ string) string { return "building:" + k },
		fields: map[string]fieldSpec{
			"name":    {col: "name", normalize: textOf(64)},
			"useType": {col: "use_type", normalize: enumOf(BuildingUses...)},
			"floors":  {col: "floors", normalize: intIn(1, 200)},
		}},
	KindComponent: {table: "reg_components", key: "code", ref: func(k, _ string) string { return "component:" + k },
		fields: map[string]fieldSpec{
			"name":      {col: "name", normalize: textOf(64)},
			"state":     {col: "state", normalize: enumOf(ComponentStates...)},
			"ownerDept": {col: "owner_dept", normalize: textOf(16)},
			"address":   {col: "address", normalize: textOf(128)},
		}},
	KindEntity: {table: "reg_entities", key: "credit_code", ref: func(k, _ string) string { return "entity:" + k },
		fields: map[string]fieldSpec{
			"name":     {col: "name", normalize: textOf(100)},
			"legalRep": {col: "legal_rep_enc", maskCol: "legal_rep_mask", mask: idcode.MaskName, sensitive: true, normalize: validName},
			"industry": {col: "industry", normalize: enumOf(industryCodes()...)},
			"address":  {col: "address", normalize: textOf(128)},
			"status":   {col: "status", normalize: enumOf(EntityStatuses...)},
		}},
}

func specOf(kind string) (kindSpec, error) {
	k, ok := kinds[kind]
	if !ok {
		return k, errs.Invalid("kind", "enum", "one of person, building, component, entity", "应为 person、building、component、entity 之一")
	}
	return k, nil
}

// authority returns the authoritative department of a field (一数一源).
func (s *Service) authority(ctx context.Context, kind, field string) (string, error) {
	var dept string
	err := s.db.QueryRow(ctx, `SELECT dept FROM reg_authorities WHERE kind = ? AND field IN (?, '*') ORDER BY CASE WHEN field = '*' THEN 1 ELSE 0 END LIMIT 1`, kind, field).Scan(&dept)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return dept, err
}

// FieldOutcome is what happened to one field of an update.
type FieldOutcome struct {
	Field    string `json:"field"`
	Outcome  string `json:"outcome" enum:"applied,unchanged,routed" doc:"routed: sent to the authoritative department as a change to decide"`
	ChangeID string `json:"changeId,omitempty"`
	To       string `json:"authorityDept,omitempty"`
}

// current is a record's state as the change engine needs it.
type current struct {
	key, scope, blind, grid string
	sources                 Sources
	version                 int
}

func (s *Service) loadCurrent(ctx context.Context, k kindSpec, kind, key string) (*current, error) {
	c := &current{key: key}
	var src string
	blindCol := "''"
	if kind == KindPerson {
		blindCol = "id_blind"
	}
	err := s.db.QueryRow(ctx, `SELECT scope_key, grid_code, sources, version, `+blindCol+` FROM `+k.table+` WHERE `+k.key+` = ?`, key).Scan(&c.scope, &c.grid, &src, &c.version, &c.blind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound(kind, key)
	}
	if err != nil {
		return nil, err
	}
	c.sources = decodeSources(src, sourceFields[kind])
	return c, nil
}

// value returns a field's current value in clear.
func (s *Service) value(ctx context.Context, k kindSpec, kind, key, field string) (string, error) {
	f := k.fields[field]
	col := f.col
	if kind == KindPerson && field == "address" {
		col = "COALESCE((SELECT full_text FROM reg_addresses WHERE id = address_id), '')"
	}
	var v sql.NullString
	if err := s.db.QueryRow(ctx, `SELECT `+col+` FROM `+k.table+` WHERE `+k.key+` = ?`, key).Scan(&v); err != nil {
		return "", err
	}
	if f.sensitive {
		return s.decrypt(v.String, kind+"."+field+":"+key)
	}
	return v.String, nil
}

// Update changes fields of a record. A field changes at once when the
// caller's department is its authority, or already the source of its
// current value; otherwise the new value is routed to the authority as a
// conflict and the stored value stays.
func (s *Service) Update(ctx context.Context, kind, key string, values map[string]string, note string) ([]FieldOutcome, error) {
	return s.change(ctx, authz.RegistryWrite, kind, key, values, note, false)
}

// change is Update (propose false) and Propose (propose true: every
// differing value is routed, as a correction).
func (s *Service) change(ctx context.Context, perm authz.Permission, kind, key string, values map[string]string, note string, propose bool) ([]FieldOutcome, error) {
	p, err := authz.Require(ctx, perm)
	if err != nil {
		return nil, err
	}
	k, err := specOf(kind)
	if err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, errs.Invalid("values", "required", "give at least one field to change", "请至少修改一个字段")
	}
	dept, err := s.deptOf(ctx, p)
	if err != nil {
		return nil, err
	}
	norm, err := normalizeAll(k, values)
	if err != nil {
		return nil, err
	}
	var out []FieldOutcome
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		out = nil
		c, err := s.loadCurrent(ctx, k, kind, key)
		if err != nil {
			return err
		}
		if err := inScope(p, c.scope, kind, key); err != nil {
			return err
		}
		applied := map[string]string{}
		for _, field := range sortedKeys(norm) {
			nv := norm[field]
			old, err := s.value(ctx, k, kind, key, field)
			if err != nil {
				return err
			}
			if old == nv {
				out = append(out, FieldOutcome{Field: field, Outcome: "unchanged"})
				continue
			}
			auth, err := s.authority(ctx, kind, field)
			if err != nil {
				return err
			}
			src := c.sources[field].Dept
			if !propose && (p.Nationwide || dept == auth || src == dept || src == "") {
				if err := s.apply(ctx, k, kind, c, field, old, nv, dept, ""); err != nil {
					return err
				}
				applied[field] = "changed"
				out = append(out, FieldOutcome{Field: field, Outcome: "applied"})
				continue
			}
			reason := ReasonConflict
			if propose {
				reason = ReasonCorrection
			}
			id, err := s.route(ctx, k, kind, c, field, old, nv, dept, auth, reason, note)
			if err != nil {
				return err
			}
			out = append(out, FieldOutcome{Field: field, Outcome: "routed", ChangeID: id, To: auth})
		}
		if len(applied) > 0 {
			return s.evidence(ctx, "registry."+kind+".update", k.ref(key, c.blind), "", "", map[string]any{"fields": applied, "source": dept, "note": note})
		}
		return nil
	})
	return out, err
}

func normalizeAll(k kindSpec, values map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for field, v := range values {
		f, ok := k.fields[field]
		if !ok {
			names := sortedKeys(k.fields)
			return nil, errs.Invalid(field, "changeable", "not a changeable field; one of "+strings.Join(names, ", "), "不可修改的字段；可修改："+strings.Join(names, "、"))
		}
		nv, err := f.normalize(field, v)
		if err != nil {
			return nil, err
		}
		out[field] = nv
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// apply writes a new value with its source, keeping the old one in the
// history.
func (s *Service) apply(ctx context.Context, k kindSpec, kind string, c *current, field, old, nv, dept, changeID string) error {
	f := k.fields[field]
	now := s.now().UnixMilli()
	c.sources[field] = Source{Dept: dept, At: now}
	sets := []string{}
	var args []any
	switch {
	case kind == KindPerson && field == "address":
		w := s.newWriter(ctx, authz.From(ctx), dept)
		defer w.close()
		a, err := w.address(ctx, "", nv, "")
		if err != nil {
			return err
		}
		sets, args = append(sets, "address_id = ?", "grid_code = ?", "scope_key = ?"), append(args, a.id, a.grid, a.grid)
		c.sources["grid"] = Source{Dept: dept, At: now}
	case f.sensitive:
		enc, err := s.encrypt(nv, kind+"."+field+":"+c.key)
		if err != nil {
			return err
		}
		sets, args = append(sets, f.col+" = ?", f.maskCol+" = ?"), append(args, enc, f.mask(nv))
	case field == "registered" || field == "resident" || field == "floors":
		n, _ := strconv.Atoi(nv)
		sets, args = append(sets, f.col+" = ?"), append(args, n)
	default:
		sets, args = append(sets, f.col+" = ?"), append(args, nv)
	}
	sets = append(sets, "sources = ?", "version = version + 1", "updated_at = ?")
	args = append(args, c.sources.encode(), now, c.key)
	if _, err := s.db.Exec(ctx, `UPDATE `+k.table+` SET `+strings.Join(sets, ", ")+` WHERE `+k.key+` = ?`, args...); err != nil {
		return err
	}
	if kind == KindPerson && field == "registered" || kind == KindPerson && field == "resident" {
		old, nv = boolWord(old), boolWord(nv)
	}
	return s.history(ctx, kind, c.key, field, old, nv, f.sensitive, dept, changeID, c.scope)
}

func boolWord(v string) string {
	if v == "1" {
		return "true"
	}
	if v == "0" {
		return "false"
	}
	return v
}

// Reasons a change is routed to the authority.
const (
	ReasonConflict   = "conflict"   // two departments disagree about a value
	ReasonCorrection = "correction" // a grid worker's correction on the spot
	ReasonNew        = "new"        // a grid worker's new record
)

// Change statuses.
const (
	ChangeOpen     = "open"
	ChangeAccepted = "accepted"
	ChangeRejected = "rejected"
)

// DecisionDays is the time an authority has to decide a routed change.
const DecisionDays = 10

func (s *Service) route(ctx context.Context, k kindSpec, kind string, c *current, field, old, nv, dept, auth, reason, note string) (string, error) {
	p := authz.From(ctx)
	id := newID()
	f := k.fields[field]
	proposed, curMask, propMask := nv, old, nv
	if f.sensitive {
		var err error
		if proposed, err = s.encrypt(nv, "change:"+id); err != nil {
			return "", err
		}
		curMask, propMask = f.mask(old), f.mask(nv)
	}
	if auth == "" {
		auth = c.sources[field].Dept
	}
	now := s.now()
	_, err := s.db.Exec(ctx, `INSERT INTO reg_changes (id, reason, kind, record_id, field, proposed, sensitive, current_mask, proposed_mask, note,
		proposer_dept, proposer_id, proposer_name, authority_dept, status, due_at, grid_code, scope_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`,
		id, reason, kind, c.key, field, proposed, b2i(f.sensitive), curMask, propMask, note, dept, p.ID, p.Name, auth,
		now.Add(DecisionDays*24*time.Hour).UnixMilli(), c.grid, c.scope, now.UnixMilli())
	if err != nil {
		return "", err
	}
	return id, s.evidence(ctx, "registry.change.route", k.ref(c.key, c.blind), "", "一数一源", map[string]any{"change": id, "reason": reason, "field": field, "from": dept, "to": auth})
}

// Propose sends corrections of a record to its authority for confirmation
// (grid workers: collected once, on the spot, never re-entered).
func (s *Service) Propose(ctx context.Context, kind, key string, values map[string]string, note string) ([]FieldOutcome, error) {
	return s.change(ctx, authz.RegistryPropose, kind, key, values, note, true)
}

// ProposeNew sends a new record to its authority for confirmation. record
// is the JSON of NewPerson, NewBuilding, NewComponent or NewEntity; it is
// validated now, and created when the authority accepts.
func (s *Service) ProposeNew(ctx context.Context, kind string, record json.RawMessage, note string) (*Change, error) {
	p, err := authz.Require(ctx, authz.RegistryPropose)
	if err != nil {
		return nil, err
	}
	if _, err := specOf(kind); err != nil {
		return nil, err
	}
	dept, err := s.deptOf(ctx, p)
	if err != nil {
		return nil, err
	}
	grid, summary, sensitive, err := s.checkNew(ctx, kind, record)
	if err != nil {
		return nil, err
	}
	if !p.Nationwide && !p.InScope(grid) {
		return nil, errs.Invalid("record.gridCode", "scope", "the grid lies outside your region", "该网格不在您的管辖范围内")
	}
	auth, err := s.authority(ctx, kind, "*")
	if err != nil {
		return nil, err
	}
	id := newID()
	proposed := string(record)
	if sensitive {
		if proposed, err = s.encrypt(proposed, "change:"+id); err != nil {
			return nil, err
		}
	}
	now := s.now()
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `INSERT INTO reg_changes (id, reason, kind, record_id, field, proposed, sensitive, current_mask, proposed_mask, note,
			proposer_dept, proposer_id, proposer_name, authority_dept, status, due_at, grid_code, scope_key, created_at)
			VALUES (?, 'new', ?, '', '', ?, ?, '', ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`,
			id, kind, proposed, b2i(sensitive), summary, note, dept, p.ID, p.Name, auth, now.Add(DecisionDays*24*time.Hour).UnixMilli(), grid, grid, now.UnixMilli()); err != nil {
			return err
		}
		return s.evidence(ctx, "registry.change.route", kind+":new:"+id, "", "一数一源", map[string]any{"change": id, "reason": ReasonNew, "from": dept, "to": auth})
	})
	if err != nil {
		return nil, err
	}
	return s.GetChange(ctx, id)
}

// checkNew validates a proposed new record and returns its grid, a masked
// summary and whether it holds personal data.
func (s *Service) checkNew(ctx context.Context, kind string, record json.RawMessage) (grid, summary string, sensitive bool, err error) {
	dec := func(v any) error {
		d := json.NewDecoder(strings.NewReader(string(record)))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return errs.Invalid("record", "json", "not a valid "+kind+" record: "+err.Error(), "记录格式错误："+err.Error())
		}
		return nil
	}
	switch kind {
	case KindPerson:
		var in NewPerson
		if err := dec(&in); err != nil {
			return "", "", false, err
		}
		r, err := s.preparePerson(in, "record.")
		if err != nil {
			return "", "", false, err
		}
		grid = r.grid
		if grid == "" {
			if err := s.db.QueryRow(ctx, `SELECT grid_code FROM reg_addresses WHERE full_text = ?`, r.address).Scan(&grid); err != nil {
				return "", "", false, errs.Invalid("record.gridCode", "required", "unknown address: give its unit grid too", "地址不在库中，请同时填写网格")
			}
		}
		return grid, r.nameMask + " " + r.idMask, true, nil
	case KindBuilding:
		var in NewBuilding
		if err := dec(&in); err != nil {
			return "", "", false, err
		}
		b, err := s.prepareBuilding(ctx, in, "record.")
		if err != nil {
			return "", "", false, err
		}
		return b.grid, b.address, false, nil
	case KindComponent:
		var in NewComponent
		if err := dec(&in); err != nil {
			return "", "", false, err
		}
		c, err := s.prepareComponent(ctx, in, "record.")
		if err != nil {
			return "", "", false, err
		}
		return c.grid, c.className + " " + c.address, false, nil
	default:
		var in NewEntity
		if err := dec(&in); err != nil {
			return "", "", false, err
		}
		e, err := s.prepareEntity(ctx, in, "record.")
		if err != nil {
			return "", "", false, err
		}
		return e.grid, e.name + " " + e.code, true, nil
	}
}

// Change is a change routed to an authoritative department.
type Change struct {
	ID            string `json:"id"`
	Reason        string `json:"reason" enum:"conflict,correction,new"`
	Kind          string `json:"kind" enum:"person,building,component,entity"`
	RecordID      string `json:"recordId,omitempty"`
	Field         string `json:"field,omitempty"`
	Current       string `json:"current" doc:"Current value (masked for personal fields)"`
	Proposed      string `json:"proposed" doc:"Proposed value (masked for personal fields; a summary for new records)"`
	Note          string `json:"note,omitempty"`
	ProposerDept  string `json:"proposerDept"`
	ProposerName  string `json:"proposerName"`
	AuthorityDept string `json:"authorityDept"`
	Status        string `json:"status" enum:"open,accepted,rejected"`
	DueAt         int64  `json:"dueAt"`
	Overdue       bool   `json:"overdue"`
	DecidedBy     string `json:"decidedBy,omitempty"`
	DecidedAt     int64  `json:"decidedAt,omitempty"`
	DecisionNote  string `json:"decisionNote,omitempty"`
	GridCode      string `json:"gridCode"`
	CreatedAt     int64  `json:"createdAt"`
}

const changeCols = `id, reason, kind, record_id, field, current_mask, proposed_mask, note, proposer_dept, proposer_name, authority_dept, status,
	due_at, decided_by, decided_at, decision_note, grid_code, created_at, scope_key`

func (s *Service) scanChange(sc interface{ Scan(...any) error }) (*Change, string, error) {
	var c Change
	var scope string
	err := sc.Scan(&c.ID, &c.Reason, &c.Kind, &c.RecordID, &c.Field, &c.Current, &c.Proposed, &c.Note, &c.ProposerDept, &c.ProposerName, &c.AuthorityDept,
		&c.Status, &c.DueAt, &c.DecidedBy, &c.DecidedAt, &c.DecisionNote, &c.GridCode, &c.CreatedAt, &scope)
	c.Overdue = c.Status == ChangeOpen && s.now().UnixMilli() > c.DueAt
	return &c, scope, err
}

// GetChange returns one routed change of the caller's region.
func (s *Service) GetChange(ctx context.Context, id string) (*Change, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, err
	}
	c, scope, err := s.scanChange(s.db.QueryRow(ctx, `SELECT `+changeCols+` FROM reg_changes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("change", id)
	}
	if err != nil {
		return nil, err
	}
	if err := inScope(p, scope, "change", id); err != nil {
		return nil, err
	}
	return c, nil
}

// ChangeFilter narrows ListChanges.
type ChangeFilter struct {
	Status   string
	Kind     string
	RecordID string
	ForMe    bool // only changes whose authority is the caller's department
	Mine     bool // only changes the caller proposed
}

// ListChanges lists routed changes of the caller's region, newest first.
func (s *Service) ListChanges(ctx context.Context, f ChangeFilter, limit, offset int) ([]Change, int, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, 0, err
	}
	cond, args, err := scopeCond(p, "")
	if err != nil {
		return nil, 0, err
	}
	if f.Status != "" {
		cond, args = cond+" AND status = ?", append(args, f.Status)
	}
	if f.Kind != "" {
		cond, args = cond+" AND kind = ?", append(args, f.Kind)
	}
	if f.RecordID != "" {
		cond, args = cond+" AND record_id = ?", append(args, f.RecordID)
	}
	if f.ForMe {
		dept, err := s.deptOf(ctx, p)
		if err != nil {
			return nil, 0, err
		}
		cond, args = cond+" AND authority_dept = ?", append(args, dept)
	}
	if f.Mine {
		cond, args = cond+" AND proposer_id = ?", append(args, p.ID)
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM reg_changes WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+changeCols+` FROM reg_changes WHERE `+cond+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		c, _, err := s.scanChange(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *c)
	}
	return out, total, rows.Err()
}

// Decide accepts or rejects a routed change. Only the authoritative
// department (in its region) decides; accepting applies the value (or
// creates the record) with the authority as its source.
func (s *Service) Decide(ctx context.Context, id string, accept bool, note string) (*Change, error) {
	p, err := authz.Require(ctx, authz.RegistryWrite)
	if err != nil {
		return nil, err
	}
	dept, err := s.deptOf(ctx, p)
	if err != nil {
		return nil, err
	}
	if len([]rune(note)) > 500 {
		return nil, errs.Invalid("note", "length", "up to 500 characters", "不超过 500 字")
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		var reason, kind, recordID, field, proposed, auth, status, scope string
		var sensitive int
		err := s.db.QueryRow(ctx, `SELECT reason, kind, record_id, field, proposed, sensitive, authority_dept, status, scope_key FROM reg_changes WHERE id = ?`, id).
			Scan(&reason, &kind, &recordID, &field, &proposed, &sensitive, &auth, &status, &scope)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("change", id)
		}
		if err != nil {
			return err
		}
		if err := inScope(p, scope, "change", id); err != nil {
			return err
		}
		if !p.Nationwide && dept != auth {
			return errs.Forbidden("only the authoritative department ("+auth+") decides this change", "只有权威来源部门（"+auth+"）可以处理此变更")
		}
		if status != ChangeOpen {
			return errs.Conflict("status", "the change was already decided", "该变更已处理")
		}
		if sensitive == 1 {
			if proposed, err = s.decrypt(proposed, "change:"+id); err != nil {
				return err
			}
		}
		newStatus := ChangeRejected
		if accept {
			newStatus = ChangeAccepted
			if err := s.applyChange(ctx, p, dept, id, reason, kind, recordID, field, proposed); err != nil {
				return err
			}
		}
		if _, err := s.db.Exec(ctx, `UPDATE reg_changes SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ?`,
			newStatus, p.Name, s.now().UnixMilli(), note, id); err != nil {
			return err
		}
		return s.evidence(ctx, "registry.change.decide", kind+":change:"+id, "", "一数一源", map[string]any{"change": id, "accept": accept, "by": dept, "note": note})
	})
	if err != nil {
		return nil, err
	}
	return s.GetChange(ctx, id)
}

func (s *Service) applyChange(ctx context.Context, p *authz.Principal, dept, id, reason, kind, recordID, field, proposed string) error {
	if reason != ReasonNew {
		k := kinds[kind]
		c, err := s.loadCurrent(ctx, k, kind, recordID)
		if err != nil {
			return err
		}
		old, err := s.value(ctx, k, kind, recordID, field)
		if err != nil {
			return err
		}
		return s.apply(ctx, k, kind, c, field, old, proposed, dept, id)
	}
	w := s.newWriter(ctx, p, dept)
	defer w.close()
	switch kind {
	case KindPerson:
		var in NewPerson
		if err := json.Unmarshal([]byte(proposed), &in); err != nil {
			return err
		}
		r, err := s.preparePerson(in, "record.")
		if err != nil {
			return err
		}
		return w.person(ctx, &r, "record.")
	case KindBuilding:
		var in NewBuilding
		if err := json.Unmarshal([]byte(proposed), &in); err != nil {
			return err
		}
		b, err := s.prepareBuilding(ctx, in, "record.")
		if err != nil {
			return err
		}
		return w.building(ctx, b)
	case KindComponent:
		var in NewComponent
		if err := json.Unmarshal([]byte(proposed), &in); err != nil {
			return err
		}
		c, err := s.prepareComponent(ctx, in, "record.")
		if err != nil {
			return err
		}
		return w.component(ctx, c)
	default:
		var in NewEntity
		if err := json.Unmarshal([]byte(proposed), &in); err != nil {
			return err
		}
		e, err := s.prepareEntity(ctx, in, "record.")
		if err != nil {
			return err
		}
		return w.entity(ctx, e)
	}
}

// HistoryEntry is one old value of a record's field.
type HistoryEntry struct {
	Field      string `json:"field"`
	Old        string `json:"old" doc:"Masked for personal fields unless the purpose allows the field"`
	New        string `json:"new"`
	SourceDept string `json:"sourceDept"`
	ActorName  string `json:"actorName"`
	ChangeID   string `json:"changeId,omitempty"`
	At         int64  `json:"at"`
}

// History lists the changes of one record, newest first.
func (s *Service) History(ctx context.Context, kind, key, purpose string, limit, offset int) ([]HistoryEntry, int, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, 0, err
	}
	k, err := specOf(kind)
	if err != nil {
		return nil, 0, err
	}
	c, err := s.loadCurrent(ctx, k, kind, key)
	if err != nil {
		return nil, 0, err
	}
	if err := inScope(p, c.scope, kind, key); err != nil {
		return nil, 0, err
	}
	v, err := s.viewFor(ctx, p, purpose)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM reg_history WHERE kind = ? AND record_id = ?`, kind, key).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, field, old_value, new_value, sensitive, source_dept, actor_name, change_id, at FROM reg_history
		WHERE kind = ? AND record_id = ? ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`, kind, key, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []HistoryEntry
	var shown []string
	for rows.Next() {
		var h HistoryEntry
		var id string
		var sens int
		if err := rows.Scan(&id, &h.Field, &h.Old, &h.New, &sens, &h.SourceDept, &h.ActorName, &h.ChangeID, &h.At); err != nil {
			return nil, 0, err
		}
		if sens == 1 {
			old, err := s.decrypt(h.Old, "history.old:"+id)
			if err != nil {
				return nil, 0, err
			}
			nw, err := s.decrypt(h.New, "history.new:"+id)
			if err != nil {
				return nil, 0, err
			}
			if v.shows(h.Field) {
				shown = append(shown, h.Field)
				h.Old, h.New = old, nw
			} else {
				m := k.fields[h.Field].mask
				h.Old, h.New = m(old), m(nw)
			}
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(shown) > 0 {
		slices.Sort(shown)
		if err := s.disclose(ctx, v, []string{k.ref(key, c.blind)}, slices.Compact(shown)); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}
