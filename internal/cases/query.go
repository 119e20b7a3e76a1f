package cases

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// load reads a case by id or number.
func (s *Service) load(ctx context.Context, key string) (*Case, error) {
	col := "id"
	if len(key) == 20 && !strings.Contains(key, "-") {
		col = "no"
	}
	c, err := s.scanCase(s.db.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE `+col+` = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("case", key)
	}
	return c, err
}

// visible returns the caller (who must hold perm) and a case they may see;
// a case they may not see is not found.
func (s *Service) visible(ctx context.Context, perm authz.Permission, key string) (*authz.Principal, *Case, error) {
	p, err := authz.Require(ctx, perm)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.load(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	if !s.canSee(ctx, p, c) {
		return nil, nil, errs.NotFound("case", key)
	}
	return p, c, nil
}

// canSee: the case's region, the unit it is with, or its reporter.
func (s *Service) canSee(ctx context.Context, p *authz.Principal, c *Case) bool {
	if p.Has(authz.CasesRead) && (p.InScope(c.Grid) || (c.OrgID != "" && c.OrgID == p.OrgID)) {
		return true
	}
	ok, _ := s.isReporter(ctx, p, c)
	return ok
}

// Detail is a case with its timeline and photos.
type Detail struct {
	Case
	Events []Event     `json:"events"`
	Photos []PhotoMeta `json:"photos"`
	// Reporters counts everyone who reported the thing (merged duplicates included).
	Reporters int `json:"reporters"`
	// ReporterClear is the reporter's name and phone in clear, only with a
	// stated purpose that allows it (recorded on the ledger).
	ReporterClear *ReporterContact `json:"reporterClear,omitempty"`
}

// ReporterContact is a reporter's name and phone in clear.
type ReporterContact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// PhotoMeta describes a stored photo.
type PhotoMeta struct {
	ID        string `json:"id"`
	Stage     string `json:"stage" enum:"report,handle,verify"`
	Mime      string `json:"mime"`
	Size      int    `json:"size"`
	SHA256    string `json:"sha256"`
	CreatedAt int64  `json:"createdAt"`
}

// Get returns a case with its timeline. With purpose "case-handling" a
// handler of the case's unit or an operator sees the reporter's contact in
// clear; the read is evidence for the ledger.
func (s *Service) Get(ctx context.Context, key, purpose string) (*Detail, error) {
	p, c, err := s.visible(ctx, "", key)
	if err != nil {
		return nil, err
	}
	d := &Detail{Case: *c}
	if d.Events, err = s.events_(ctx, c.ID); err != nil {
		return nil, err
	}
	if d.Photos, err = s.photos(ctx, c.ID); err != nil {
		return nil, err
	}
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM case_reporters WHERE case_id = ?`, c.ID).Scan(&d.Reporters); err != nil {
		return nil, err
	}
	if purpose != "" {
		if purpose != "case-handling" {
			return nil, errs.Invalid("purpose", "enum", "the only purpose for a reporter's contact is case-handling", "查看反映人联系方式的用途只能为 case-handling")
		}
		if !(p.Has(authz.CasesDispatch) || (p.Has(authz.CasesHandle) && p.OrgID == c.OrgID)) {
			return nil, errs.Forbidden("only operators and the handling unit may see the reporter's contact", "只有受理人员和承办单位可以查看反映人联系方式")
		}
		name, err := s.unseal(c.reporterName, c.ID, "name")
		if err != nil {
			return nil, err
		}
		phone, err := s.unseal(c.reporterPhone, c.ID, "phone")
		if err != nil {
			return nil, err
		}
		d.ReporterClear = &ReporterContact{Name: name, Phone: phone}
		if err := s.evidence(ctx, p, "case.disclose", "case:"+c.No, map[string]string{"purpose": purpose, "fields": "reporterName,reporterPhone"}); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Service) events_(ctx context.Context, caseID string) ([]Event, error) {
	rows, err := s.db.Query(ctx, `SELECT id, seq, action, from_state, to_state, actor_kind, actor_id, actor_name, org_id, note, data, at FROM case_events WHERE case_id = ? ORDER BY seq`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var from, to, data string
		if err := rows.Scan(&e.ID, &e.Seq, &e.Action, &from, &to, &e.ActorKind, &e.ActorID, &e.ActorName, &e.OrgID, &e.Note, &data, &e.At); err != nil {
			return nil, err
		}
		e.From, e.To = State(from), State(to)
		if data != "" {
			e.Data = []byte(data)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Service) photos(ctx context.Context, caseID string) ([]PhotoMeta, error) {
	rows, err := s.db.Query(ctx, `SELECT id, stage, mime, size, sha256, created_at FROM case_photos WHERE case_id = ? ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PhotoMeta{}
	for rows.Next() {
		var m PhotoMeta
		if err := rows.Scan(&m.ID, &m.Stage, &m.Mime, &m.Size, &m.SHA256, &m.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PhotoData returns a photo of a case the caller can see.
func (s *Service) PhotoData(ctx context.Context, key, photoID string) (string, []byte, error) {
	_, c, err := s.visible(ctx, "", key)
	if err != nil {
		return "", nil, err
	}
	var mime string
	var data []byte
	err = s.db.QueryRow(ctx, `SELECT mime, data FROM case_photos WHERE id = ? AND case_id = ?`, photoID, c.ID).Scan(&mime, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, errs.NotFound("photo", photoID)
	}
	return mime, data, err
}

// Filter narrows a list of cases.
type Filter struct {
	Within   string  // division or grid code prefix
	States   []State // any of
	Category string  // code or prefix
	Channel  string
	OrgID    string
	Dept     string
	Warning  int // at least this warning level
	From, To int64
	Q        string // number, description or address contains
	Mine     bool   // reported by the caller
	Queue    bool   // the operators' queue: reported and filed
	BBox     *[4]float64
}

// List returns the caller's cases, newest first.
func (s *Service) List(ctx context.Context, f Filter, limit, offset int) ([]Case, int, error) {
	p, err := authz.Require(ctx, "")
	if err != nil {
		return nil, 0, err
	}
	var where []string
	var args []any
	switch {
	case f.Mine:
		where = append(where, `id IN (SELECT case_id FROM case_reporters WHERE reporter_id = ?)`)
		args = append(args, p.ID)
	case !p.Has(authz.CasesRead):
		return nil, 0, errs.Forbidden("permission cases:read required", "没有权限：cases:read")
	default:
		lo, hi := p.ScopeRange()
		if p.OrgID != "" && p.Has(authz.CasesHandle) {
			where = append(where, `((scope_key >= ? AND scope_key < ?) OR org_id = ?)`)
			args = append(args, lo, hi, p.OrgID)
		} else {
			where = append(where, `scope_key >= ? AND scope_key < ?`)
			args = append(args, lo, hi)
		}
	}
	if f.Within != "" {
		lo, hi := authz.PrefixRange(f.Within)
		where = append(where, `scope_key >= ? AND scope_key < ?`)
		args = append(args, lo, hi)
	}
	if f.Queue {
		f.States = []State{Reported, Filed}
	}
	if len(f.States) > 0 {
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(f.States)), ", ")
		where = append(where, `state IN (`+ph+`)`)
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if f.Category != "" {
		lo, hi := authz.PrefixRange(f.Category)
		where = append(where, `category >= ? AND category < ?`)
		args = append(args, lo, hi)
	}
	if f.Channel != "" {
		where = append(where, `channel = ?`)
		args = append(args, f.Channel)
	}
	if f.OrgID != "" {
		where = append(where, `org_id = ?`)
		args = append(args, f.OrgID)
	}
	if f.Dept != "" {
		where = append(where, `dept = ?`)
		args = append(args, f.Dept)
	}
	if f.Warning > 0 {
		where = append(where, `warning >= ?`)
		args = append(args, f.Warning)
	}
	if f.From > 0 {
		where = append(where, `created_at >= ?`)
		args = append(args, f.From)
	}
	if f.To > 0 {
		where = append(where, `created_at < ?`)
		args = append(args, f.To)
	}
	if f.BBox != nil {
		where = append(where, `lon >= ? AND lat >= ? AND lon <= ? AND lat <= ?`)
		args = append(args, f.BBox[0], f.BBox[1], f.BBox[2], f.BBox[3])
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		where = append(where, `(no = ? OR description LIKE ? OR address LIKE ?)`)
		like := "%" + strings.NewReplacer("%", "", "_", "").Replace(q) + "%"
		args = append(args, q, like, like)
	}
	w := strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE `+w, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE `+w+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Case{}
	for rows.Next() {
		c, err := s.scanCase(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *c)
	}
	return out, total, rows.Err()
}

// SuggestDuplicates lists possible duplicates of an existing case.
func (s *Service) SuggestDuplicates(ctx context.Context, key string) ([]Suggestion, error) {
	_, c, err := s.visible(ctx, authz.CasesRead, key)
	if err != nil {
		return nil, err
	}
	all, err := s.duplicates(ctx, c)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, sg := range all {
		if sg.ID != c.ID {
			out = append(out, sg)
		}
	}
	return out, nil
}

func distanceM(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6371008.8
	φ1, φ2 := lat1*math.Pi/180, lat2*math.Pi/180
	dφ, dλ := φ2-φ1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

// bigrams are the character bigrams of a text without spaces and punctuation.
func bigrams(s string) []uint64 {
	var rs []rune
	for _, r := range s {
		if r > 127 || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z') {
			if !strings.ContainsRune("，。、；：？！“”‘’（）《》【】…—", r) {
				rs = append(rs, r)
			}
		}
	}
	if len(rs) < 2 {
		return nil
	}
	out := make([]uint64, 0, len(rs)-1)
	for i := 0; i+1 < len(rs); i++ {
		out = append(out, uint64(rs[i])<<32|uint64(rs[i+1]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dice is the Dice coefficient of two bigram sets (sorted, without
// repeats): a merge, no hashing.
func dice(a, b []uint64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return 2 * float64(n) / float64(len(a)+len(b))
}

// Notice is a message to a unit or a person about a case.
type Notice struct {
	ID      string `json:"id"`
	CaseID  string `json:"caseId"`
	Kind    string `json:"kind" enum:"dispatch,verify,rework,return,postpone,escalation,warning,overdue,progress"`
	Message string `json:"message"`
	At      int64  `json:"at"`
	Read    bool   `json:"read"`
}

// Notices lists the caller's and their unit's notices, newest first.
func (s *Service) Notices(ctx context.Context, unreadOnly bool, limit, offset int) ([]Notice, int, error) {
	p, err := authz.Require(ctx, "")
	if err != nil {
		return nil, 0, err
	}
	w := `(user_id = ? OR (org_id <> '' AND org_id = ?))`
	args := []any{p.ID, p.OrgID}
	if unreadOnly {
		w += ` AND read_at = 0`
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM case_notices WHERE `+w, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, case_id, kind, message, at, read_at FROM case_notices WHERE `+w+` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Notice{}
	for rows.Next() {
		var n Notice
		var read int64
		if err := rows.Scan(&n.ID, &n.CaseID, &n.Kind, &n.Message, &n.At, &read); err != nil {
			return nil, 0, err
		}
		n.Read = read > 0
		out = append(out, n)
	}
	return out, total, rows.Err()
}

// ReadNotices marks the caller's notices read (all when ids is empty).
func (s *Service) ReadNotices(ctx context.Context, ids []string) error {
	p, err := authz.Require(ctx, "")
	if err != nil {
		return err
	}
	w := `(user_id = ? OR (org_id <> '' AND org_id = ?)) AND read_at = 0`
	args := []any{s.nowMs(), p.ID, p.OrgID}
	if len(ids) > 0 {
		w += ` AND id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	_, err = s.db.Exec(ctx, `UPDATE case_notices SET read_at = ? WHERE `+w, args...)
	return err
}

// Places finds public places for a reporter to point at (citizens have no
// map of grids): city-wide, never people.
func (s *Service) Places(ctx context.Context, q string, limit int) ([]PlaceHit, error) {
	if _, err := authz.Require(ctx, authz.CasesReport); err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	if n := len([]rune(q)); n < 1 || n > 64 {
		return nil, errs.Invalid("q", "length", "1 to 64 characters", "应为 1 到 64 个字")
	}
	out, err := s.dir.Places(ctx, q, limit)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []PlaceHit{}
	}
	return out, nil
}
