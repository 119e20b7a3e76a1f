package registry

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// Person statuses.
const (
	StatusActive   = "active"
	StatusMovedOut = "moved-out"
	StatusDeceased = "deceased"
)

// Special-care tags (重点关爱对象), each with the department that is its
// default source.
var TagSources = map[string]string{
	"elderly-alone": "mz", // 独居老人
	"disabled":      "mz", // 残疾人 (残联 data via 民政)
	"low-income":    "mz", // 低保/低收入
	"key-group":     "ga", // 重点人群
	"veteran":       "mz", // 退役军人
	"left-behind":   "mz", // 留守儿童
}

// TagNames are the tags' Chinese names.
var TagNames = map[string]string{
	"elderly-alone": "独居老人", "disabled": "残疾人", "low-income": "低保/低收入",
	"key-group": "重点人群", "veteran": "退役军人", "left-behind": "留守儿童",
}

// Tag is one special-care tag of a person, with its source.
type Tag struct {
	Tag        string `json:"tag"`
	NameZh     string `json:"nameZh"`
	SourceDept string `json:"sourceDept"`
	Since      int64  `json:"since" doc:"Unix milliseconds"`
}

// Person is a person as a caller sees them: personal fields masked unless
// the stated purpose allows them (ClearFields lists those shown in clear).
type Person struct {
	ID              string   `json:"id"`
	IDNumber        string   `json:"idNumber" doc:"Masked unless the purpose allows idNumber"`
	Name            string   `json:"name" doc:"Masked unless the purpose allows name"`
	Sex             string   `json:"sex" enum:"M,F"`
	BirthYear       int      `json:"birthYear"`
	Age             int      `json:"age"`
	HukouDivision   string   `json:"hukouDivision" doc:"6-digit division of household registration"`
	Registered      bool     `json:"registered" doc:"户籍人口: registered here"`
	Resident        bool     `json:"resident" doc:"实有人口: actually living here"`
	HouseholdID     string   `json:"householdId,omitempty"`
	HouseholdNumber string   `json:"householdNumber,omitempty"`
	Relation        string   `json:"relation,omitempty" doc:"Relation to the head of household"`
	AddressID       string   `json:"addressId,omitempty"`
	Address         string   `json:"address" doc:"Room hidden unless the purpose allows address"`
	Phone           string   `json:"phone" doc:"Masked unless the purpose allows phone"`
	Status          string   `json:"status" enum:"active,moved-out,deceased"`
	GridCode        string   `json:"gridCode"`
	Tags            []Tag    `json:"tags" nullable:"false"`
	Sources         Sources  `json:"sources"`
	Version         int      `json:"version"`
	UpdatedAt       int64    `json:"updatedAt"`
	ClearFields     []string `json:"clearFields" nullable:"false" doc:"Fields shown in clear for the stated purpose"`
}

// NewPerson is the input to create a person.
type NewPerson struct {
	IDNumber        string   `json:"idNumber" minLength:"15" maxLength:"18" doc:"GB 11643 ID number (18 characters; 15-digit legacy numbers are upgraded)"`
	Name            string   `json:"name" minLength:"1" maxLength:"32"`
	Registered      bool     `json:"registered,omitempty"`
	Resident        bool     `json:"resident,omitempty"`
	HouseholdNumber string   `json:"householdNumber,omitempty" maxLength:"32" doc:"户号; created when new"`
	Relation        string   `json:"relation,omitempty" maxLength:"16"`
	Address         string   `json:"address,omitempty" maxLength:"128" doc:"Full address text; created in the grid when new"`
	GridCode        string   `json:"gridCode,omitempty" maxLength:"15" doc:"Unit grid; taken from the address when omitted"`
	Phone           string   `json:"phone,omitempty" maxLength:"20"`
	Tags            []string `json:"tags,omitempty" maxItems:"10"`
}

var personFields = []string{"idNumber", "name", "sex", "birthYear", "hukouDivision", "registered", "resident", "household", "relation", "address", "phone", "status", "grid"}

// personRow is a validated person ready to insert.
type personRow struct {
	id, blind, idEnc, idMask, nameEnc, nameMask, sex string
	birthYear                                        int
	hukou                                            string
	registered, resident                             bool
	householdNumber, relation                        string
	address, grid                                    string
	phoneEnc, phoneMask                              string
	tags                                             []string
	ref                                              string
}

// validPhone accepts mainland mobiles (11 digits from 1) and fixed lines
// (digits and one hyphen, 7 to 13 digits).
func validPhone(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	digits := strings.ReplaceAll(s, "-", "")
	if strings.Trim(digits, "0123456789") != "" || strings.Count(s, "-") > 1 {
		return "", errs.Invalid(field, "phone", "a phone number has digits and at most one hyphen", "电话号码只能包含数字和一个连字符")
	}
	if len(digits) == 11 && digits[0] == '1' {
		return digits, nil
	}
	if len(digits) < 7 || len(digits) > 13 || digits[0] == '1' {
		return "", errs.Invalid(field, "phone", "not a mainland mobile (11 digits from 1) or fixed-line number", "不是有效的手机号（1 开头 11 位）或固定电话")
	}
	return s, nil
}

func validName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n == 0 || n > 32 {
		return "", errs.Invalid(field, "length", "a name has 1 to 32 characters", "姓名应为 1 到 32 个字")
	}
	if strings.ContainsAny(s, "\x00\r\n\t") {
		return "", errs.Invalid(field, "charset", "control characters are not allowed", "不能包含控制字符")
	}
	return s, nil
}

// preparePerson validates and encrypts one new person (no database access:
// imports prepare rows on many goroutines).
func (s *Service) preparePerson(in NewPerson, prefix string) (personRow, error) {
	var r personRow
	cid, err := idcode.ParseCitizenID(prefix+"idNumber", in.IDNumber)
	if err != nil {
		return r, err
	}
	name, err := validName(prefix+"name", in.Name)
	if err != nil {
		return r, err
	}
	phone, err := validPhone(prefix+"phone", in.Phone)
	if err != nil {
		return r, err
	}
	if !in.Registered && !in.Resident {
		return r, errs.Invalid(prefix+"registered", "population", "a person is registered here (户籍), living here (实有), or both", "人员应为户籍人口、实有人口或两者")
	}
	for _, t := range in.Tags {
		if _, ok := TagSources[t]; !ok {
			return r, errs.Invalid(prefix+"tags", "known", "unknown tag "+t, "未知标签："+t)
		}
	}
	if in.GridCode == "" && in.Address == "" {
		return r, errs.Invalid(prefix+"gridCode", "required", "give the unit grid or an address", "请填写网格或地址")
	}
	if utf8.RuneCountInString(in.Relation) > 16 || utf8.RuneCountInString(in.Address) > 128 || len(in.HouseholdNumber) > 32 {
		return r, errs.Invalid(prefix+"address", "length", "address up to 128, relation up to 16, household number up to 32 characters", "地址不超过 128 字，关系不超过 16 字，户号不超过 32 位")
	}
	r.id = newID()
	r.blind = s.blind("id", cid.Number)
	r.ref = "person:" + r.blind
	if r.idEnc, err = s.encrypt(cid.Number, "person.idNumber:"+r.id); err != nil {
		return r, err
	}
	r.idMask = idcode.MaskCitizenID(cid.Number)
	if r.nameEnc, err = s.encrypt(name, "person.name:"+r.id); err != nil {
		return r, err
	}
	r.nameMask = idcode.MaskName(name)
	if phone != "" {
		if r.phoneEnc, err = s.encrypt(phone, "person.phone:"+r.id); err != nil {
			return r, err
		}
		r.phoneMask = idcode.MaskPhone(phone)
	}
	r.sex, r.birthYear, r.hukou = cid.Sex, cid.Birth.Year(), cid.Division
	r.registered, r.resident = in.Registered, in.Resident
	r.householdNumber, r.relation = strings.TrimSpace(in.HouseholdNumber), strings.TrimSpace(in.Relation)
	r.address, r.grid = strings.TrimSpace(in.Address), in.GridCode
	r.tags = in.Tags
	return r, nil
}

// CreatePerson adds a person. The caller's department is the source of
// every field.
func (s *Service) CreatePerson(ctx context.Context, in NewPerson) (*Person, error) {
	if _, err := authz.Require(ctx, authz.RegistryWrite); err != nil {
		return nil, err
	}
	r, err := s.preparePerson(in, "")
	if err != nil {
		return nil, err
	}
	id, err := s.create(ctx, "registry.person.create", func(string) string { return r.ref },
		func(ctx context.Context, w *writer) (string, error) { return r.id, w.person(ctx, &r, "") })
	if err != nil {
		return nil, err
	}
	return s.GetPerson(ctx, id, "")
}

// writer inserts validated records inside one transaction, creating the
// households and addresses they name, and checking the caller's region.
type writer struct {
	s     *Service
	p     *authz.Principal
	dept  string
	now   int64
	addrs map[string]addrRef // full text -> address
	holds map[string]string  // household number -> id
	grids map[string]bool
	// serials caches the last serial handed out per code prefix.
	serials  map[string]int
	st       *db.Stmts
	srcCache map[string]string
	// missing holds addresses known not to exist yet (knownAddresses).
	missing      map[string]bool
	missingHolds map[string]bool // household numbers known not to exist yet
	// batched queues inserts of bulk loads (see insert); flush before
	// anything reads them and before the transaction ends.
	batched bool
	pending map[*insertSpec]*pendingRows
	restore func()
}

func (w *writer) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return w.st.Exec(ctx, q, args...)
}

func (w *writer) queryRow(ctx context.Context, q string, args ...any) *db.Row {
	return w.st.QueryRow(ctx, q, args...)
}

// sources is the encoded source map of a new record whose fields all come
// from the writer's department (cached: it is the same for a whole load).
func (w *writer) sources(fields []string) string {
	key := w.dept + "|" + fields[0] + "|" + fields[len(fields)-1]
	if w.srcCache == nil {
		w.srcCache = map[string]string{}
	}
	if v, ok := w.srcCache[key]; ok {
		return v
	}
	v := allSources(fields, w.dept, w.now).encode()
	w.srcCache[key] = v
	return v
}

// bulk prepares the writer's connection for a large load: a 1 GiB page
// cache while the transaction lasts (restored by close), so that a million
// rows do not spill to the WAL before the commit.
func (w *writer) bulk(ctx context.Context) error {
	w.batched = true
	if w.s.db.Dialect() != db.SQLite {
		return nil
	}
	if _, err := w.s.db.Exec(ctx, `PRAGMA cache_size = -1048576`); err != nil {
		return err
	}
	w.restore = func() { _, _ = w.s.db.Exec(ctx, `PRAGMA cache_size = -65536`) }
	return nil
}

// close releases the writer's statements (before its transaction ends).
func (w *writer) close() {
	w.st.Close()
	if w.restore != nil {
		w.restore()
	}
}

type addrRef struct{ id, grid string }

func (s *Service) newWriter(ctx context.Context, p *authz.Principal, dept string) *writer {
	return &writer{s: s, p: p, dept: dept, now: s.now().UnixMilli(), addrs: map[string]addrRef{}, holds: map[string]string{}, grids: map[string]bool{}, missing: map[string]bool{}, missingHolds: map[string]bool{},
		st: s.db.Stmts(ctx)}
}

func (w *writer) grid(ctx context.Context, field, code string) error {
	if w.grids[code] {
		return nil
	}
	if err := w.s.checkGrid(ctx, field, code); err != nil {
		return err
	}
	if !w.p.Nationwide && !w.p.InScope(code) {
		return errs.Invalid(field, "scope", "the grid lies outside your region", "该网格不在您的管辖范围内")
	}
	w.grids[code] = true
	return nil
}

// address finds or creates an address; grid may be "" when it exists.
func (w *writer) address(ctx context.Context, prefix, text, grid string) (addrRef, error) {
	if a, ok := w.addrs[text]; ok {
		return a, nil
	}
	var a addrRef
	err := sql.ErrNoRows
	if !w.missing[text] {
		err = w.queryRow(ctx, `SELECT id, grid_code FROM reg_addresses WHERE full_text = ?`, text).Scan(&a.id, &a.grid)
	}
	switch {
	case err == nil:
	case errors.Is(err, sql.ErrNoRows):
		if grid == "" {
			return a, errs.Invalid(prefix+"address", "known", "unknown address: give its unit grid too", "地址不在库中，请同时填写网格")
		}
		if err := w.grid(ctx, prefix+"gridCode", grid); err != nil {
			return a, err
		}
		g, err := w.s.grid(ctx, prefix+"gridCode", grid)
		if err != nil {
			return a, err
		}
		c := [2]float64{g.Lon, g.Lat}
		a = addrRef{id: newID(), grid: grid}
		if err := w.insert(ctx, insAddress, a.id, text, grid, grid, c[0], c[1], w.now); err != nil {
			return a, err
		}
	default:
		return a, err
	}
	if err := w.grid(ctx, prefix+"address", a.grid); err != nil {
		return a, err
	}
	w.addrs[text] = a
	return a, nil
}

func (w *writer) household(ctx context.Context, number string, a addrRef, grid string) (string, error) {
	if id, ok := w.holds[number]; ok {
		return id, nil
	}
	var id string
	err := sql.ErrNoRows
	if !w.missingHolds[number] {
		err = w.queryRow(ctx, `SELECT id FROM reg_households WHERE number = ?`, number).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		id = newID()
		err = w.insert(ctx, insHousehold, id, number, nullIf(a.id), grid, grid, w.now)
	}
	if err != nil {
		return "", err
	}
	w.holds[number] = id
	return id, nil
}

func nullIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// person inserts one prepared person. prefix names the row in errors.
func (w *writer) person(ctx context.Context, r *personRow, prefix string) error {
	var a addrRef
	if r.address != "" {
		var err error
		if a, err = w.address(ctx, prefix, r.address, r.grid); err != nil {
			return err
		}
		if r.grid == "" {
			r.grid = a.grid
		} else if r.grid != a.grid {
			return errs.Invalid(prefix+"address", "consistent", "the address lies in grid "+a.grid+", not "+r.grid, "该地址位于网格 "+a.grid+"，不是 "+r.grid)
		}
	}
	// The grid must be known and in the caller's region, however it was
	// found (cached per grid).
	if err := w.grid(ctx, prefix+"gridCode", r.grid); err != nil {
		return err
	}
	var hh string
	if r.householdNumber != "" {
		var err error
		if hh, err = w.household(ctx, r.householdNumber, a, r.grid); err != nil {
			return err
		}
	}
	src := w.sources(personFields)
	err := w.insert(ctx, insPerson, r.id, r.blind, r.idEnc, r.idMask, r.nameEnc, r.nameMask, r.sex, r.birthYear, r.hukou, b2i(r.registered), b2i(r.resident),
		nullIf(hh), r.relation, nullIf(a.id), r.phoneEnc, r.phoneMask, StatusActive, r.grid, r.grid, src, w.now, w.now)
	if db.IsUniqueViolation(err) {
		return errs.Conflict(prefix+"idNumber", "a person with this ID number is already registered", "该身份证号码已登记")
	}
	if err != nil {
		return err
	}
	for _, t := range r.tags {
		if err := w.insert(ctx, insTag, r.id, t, w.dept, w.now, r.grid); err != nil {
			return err
		}
	}
	if w.batched && len(w.pending[insPerson].args) >= batchRows*len(insPerson.cols) {
		return w.flush(ctx)
	}
	return nil
}

// An insert of one row into a table; in bulk loads rows are batched into
// multi-row statements, flushed in this order (parents before children).
type insertSpec struct {
	table string
	cols  []string
	// literal values appended to every row, e.g. constant columns.
	consts string
}

var (
	insAddress   = &insertSpec{table: "reg_addresses", cols: []string{"id", "full_text", "grid_code", "scope_key", "lon", "lat", "created_at"}, consts: "building_id, room|NULL, ''"}
	insHousehold = &insertSpec{table: "reg_households", cols: []string{"id", "number", "address_id", "grid_code", "scope_key", "created_at"}, consts: "kind|'family'"}
	insPerson    = &insertSpec{table: "reg_people", cols: []string{"id", "id_blind", "id_enc", "id_mask", "name_enc", "name_mask", "sex", "birth_year", "hukou_division", "registered", "resident",
		"household_id", "relation", "address_id", "phone_enc", "phone_mask", "status", "grid_code", "scope_key", "sources", "created_at", "updated_at"}, consts: "version|1"}
	insTag   = &insertSpec{table: "reg_person_tags", cols: []string{"person_id", "tag", "source_dept", "since", "scope_key"}}
	insOrder = []*insertSpec{insAddress, insHousehold, insPerson, insTag}
)

// batchRows is the number of people per multi-row statement.
const batchRows = 128

func (sp *insertSpec) query(rows int) string {
	cols := strings.Join(sp.cols, ", ")
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(sp.cols)), ", ")
	if sp.consts != "" {
		names, vals, _ := strings.Cut(sp.consts, "|")
		cols += ", " + names
		one += ", " + vals
	}
	one += ")"
	return "INSERT INTO " + sp.table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

type pendingRows struct{ args []any }

// insert writes one row now, or queues it in a bulk load.
func (w *writer) insert(ctx context.Context, sp *insertSpec, vals ...any) error {
	if !w.batched {
		_, err := w.exec(ctx, sp.query(1), vals...)
		return err
	}
	if w.pending == nil {
		w.pending = map[*insertSpec]*pendingRows{}
	}
	p := w.pending[sp]
	if p == nil {
		p = &pendingRows{}
		w.pending[sp] = p
	}
	p.args = append(p.args, vals...)
	return nil
}

// flush writes the queued rows, parents first.
func (w *writer) flush(ctx context.Context) error {
	for _, sp := range insOrder {
		p := w.pending[sp]
		if p == nil || len(p.args) == 0 {
			continue
		}
		n := len(sp.cols)
		for len(p.args) > 0 {
			rows := min(len(p.args)/n, batchRows*4)
			if _, err := w.exec(ctx, sp.query(rows), p.args[:rows*n]...); err != nil {
				if db.IsUniqueViolation(err) {
					return errs.Conflict("", "a record of this load is already registered ("+sp.table+")", "本次装载的记录已登记（"+sp.table+"）")
				}
				return err
			}
			p.args = p.args[rows*n:]
		}
		p.args = p.args[:0]
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

const personCols = `p.id, p.id_enc, p.id_mask, p.name_enc, p.name_mask, p.sex, p.birth_year, p.hukou_division, p.registered, p.resident,
	COALESCE(p.household_id, ''), COALESCE(h.number, ''), p.relation, COALESCE(p.address_id, ''), COALESCE(a.full_text, ''), COALESCE(a.room, ''),
	p.phone_enc, p.phone_mask, p.status, p.grid_code, p.scope_key, p.sources, p.version, p.updated_at, p.id_blind`

const personFrom = ` FROM reg_people p LEFT JOIN reg_households h ON h.id = p.household_id LEFT JOIN reg_addresses a ON a.id = p.address_id`

type personScan struct {
	Person
	idEnc, nameEnc, phoneEnc, room, scope, sources, blind string
	registered, resident                                  int
}

func scanPerson(sc interface{ Scan(...any) error }) (*personScan, error) {
	var r personScan
	err := sc.Scan(&r.ID, &r.idEnc, &r.IDNumber, &r.nameEnc, &r.Name, &r.Sex, &r.BirthYear, &r.HukouDivision, &r.registered, &r.resident,
		&r.HouseholdID, &r.HouseholdNumber, &r.Relation, &r.AddressID, &r.Address, &r.room,
		&r.phoneEnc, &r.Phone, &r.Status, &r.GridCode, &r.scope, &r.sources, &r.Version, &r.UpdatedAt, &r.blind)
	if err != nil {
		return nil, err
	}
	r.Registered, r.Resident = r.registered == 1, r.resident == 1
	r.Sources = decodeSources(r.sources, personFields)
	return &r, nil
}

// finish applies the view to a scanned person: decrypts what the purpose
// allows, hides the room of the address otherwise. It returns the fields
// shown in clear.
func (s *Service) finish(r *personScan, v view, year int) (*Person, []string, error) {
	out := r.Person
	out.Age = year - out.BirthYear
	out.ClearFields = []string{}
	clear := func(field, enc string, dst *string) error {
		if !v.shows(field) || enc == "" {
			return nil
		}
		val, err := s.decrypt(enc, "person."+field+":"+r.ID)
		if err != nil {
			return err
		}
		*dst = val
		out.ClearFields = append(out.ClearFields, field)
		return nil
	}
	if err := clear("idNumber", r.idEnc, &out.IDNumber); err != nil {
		return nil, nil, err
	}
	if err := clear("name", r.nameEnc, &out.Name); err != nil {
		return nil, nil, err
	}
	if err := clear("phone", r.phoneEnc, &out.Phone); err != nil {
		return nil, nil, err
	}
	if r.room != "" {
		if v.shows("address") {
			out.ClearFields = append(out.ClearFields, "address")
		} else {
			out.Address = strings.TrimSuffix(out.Address, r.room) + "***"
		}
	}
	if out.Tags == nil {
		out.Tags = []Tag{}
	}
	return &out, out.ClearFields, nil
}

// GetPerson returns one person of the caller's region.
func (s *Service) GetPerson(ctx context.Context, id, purpose string) (*Person, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, err
	}
	v, err := s.viewFor(ctx, p, purpose)
	if err != nil {
		return nil, err
	}
	r, err := scanPerson(s.db.QueryRow(ctx, `SELECT `+personCols+personFrom+` WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("person", id)
	}
	if err != nil {
		return nil, err
	}
	return s.deliverOne(ctx, p, v, r)
}

func (s *Service) deliverOne(ctx context.Context, p *authz.Principal, v view, r *personScan) (*Person, error) {
	if err := inScope(p, r.scope, "person", r.ID); err != nil {
		return nil, err
	}
	out, shown, err := s.finish(r, v, s.now().Year())
	if err != nil {
		return nil, err
	}
	if err := s.loadTags(ctx, []*Person{out}); err != nil {
		return nil, err
	}
	if len(shown) > 0 {
		if err := s.disclose(ctx, v, []string{"person:" + r.blind}, shown); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LookupPerson finds a person by ID number (through the blind index: the
// number is never stored in clear).
func (s *Service) LookupPerson(ctx context.Context, idNumber, purpose string) (*Person, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, err
	}
	cid, err := idcode.ParseCitizenID("idNumber", idNumber)
	if err != nil {
		return nil, err
	}
	v, err := s.viewFor(ctx, p, purpose)
	if err != nil {
		return nil, err
	}
	r, err := scanPerson(s.db.QueryRow(ctx, `SELECT `+personCols+personFrom+` WHERE p.id_blind = ?`, s.blind("id", cid.Number)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("person", idcode.MaskCitizenID(cid.Number))
	}
	if err != nil {
		return nil, err
	}
	if err := inScope(p, r.scope, "person", idcode.MaskCitizenID(cid.Number)); err != nil {
		return nil, err
	}
	return s.deliverOne(ctx, p, v, r)
}

// PersonFilter narrows ListPeople.
type PersonFilter struct {
	Within     string // division (6/9/12 digits) or grid (15)
	Tag        string
	Registered *bool
	Resident   *bool
	Status     string
	IDNumber   string // exact, through the blind index
	Address    string // contains
	Household  string // household id
	Purpose    string
}

// ListPeople lists people of the caller's region.
func (s *Service) ListPeople(ctx context.Context, f PersonFilter, limit, offset int) ([]Person, int, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, 0, err
	}
	v, err := s.viewFor(ctx, p, f.Purpose)
	if err != nil {
		return nil, 0, err
	}
	cond, args, err := scopeCond(p, f.Within)
	if err != nil {
		return nil, 0, err
	}
	cond = strings.ReplaceAll(cond, "scope_key", "p.scope_key")
	if f.Tag != "" {
		if _, ok := TagSources[f.Tag]; !ok {
			return nil, 0, errs.Invalid("tag", "known", "unknown tag "+f.Tag, "未知标签："+f.Tag)
		}
		cond, args = cond+" AND EXISTS (SELECT 1 FROM reg_person_tags t WHERE t.person_id = p.id AND t.tag = ?)", append(args, f.Tag)
	}
	if f.Registered != nil {
		cond, args = cond+" AND p.registered = ?", append(args, b2i(*f.Registered))
	}
	if f.Resident != nil {
		cond, args = cond+" AND p.resident = ?", append(args, b2i(*f.Resident))
	}
	if f.Status != "" {
		cond, args = cond+" AND p.status = ?", append(args, f.Status)
	}
	if f.Household != "" {
		cond, args = cond+" AND p.household_id = ?", append(args, f.Household)
	}
	if f.IDNumber != "" {
		cid, err := idcode.ParseCitizenID("q", f.IDNumber)
		if err != nil {
			return nil, 0, err
		}
		cond, args = cond+" AND p.id_blind = ?", append(args, s.blind("id", cid.Number))
	}
	if f.Address != "" {
		cond, args = cond+` AND a.full_text LIKE ? ESCAPE '\'`, append(args, db.Like(f.Address))
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*)`+personFrom+` WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+personCols+personFrom+` WHERE `+cond+` ORDER BY p.scope_key, p.id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Person
	var ptrs []*Person
	var subjects []string
	shownAll := map[string]bool{}
	year := s.now().Year()
	var ids []string
	for rows.Next() {
		r, err := scanPerson(rows)
		if err != nil {
			return nil, 0, err
		}
		pe, shown, err := s.finish(r, v, year)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *pe)
		if len(shown) > 0 {
			ids = append(ids, r.blind)
			for _, f := range shown {
				shownAll[f] = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for i := range out {
		ptrs = append(ptrs, &out[i])
	}
	if err := s.loadTags(ctx, ptrs); err != nil {
		return nil, 0, err
	}
	if len(ids) > 0 {
		for _, id := range ids {
			subjects = append(subjects, "person:"+id)
		}
		var fields []string
		for f := range shownAll {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		if err := s.disclose(ctx, v, subjects, fields); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

func (s *Service) loadTags(ctx context.Context, people []*Person) error {
	if len(people) == 0 {
		return nil
	}
	idx := map[string]*Person{}
	var ph []string
	var args []any
	for _, p := range people {
		idx[p.ID] = p
		ph = append(ph, "?")
		args = append(args, p.ID)
	}
	rows, err := s.db.Query(ctx, `SELECT person_id, tag, source_dept, since FROM reg_person_tags WHERE person_id IN (`+strings.Join(ph, ",")+`) ORDER BY tag`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var t Tag
		if err := rows.Scan(&id, &t.Tag, &t.SourceDept, &t.Since); err != nil {
			return err
		}
		t.NameZh = TagNames[t.Tag]
		idx[id].Tags = append(idx[id].Tags, t)
	}
	return rows.Err()
}

// SetTag adds or removes a special-care tag; the caller's department is
// its source.
func (s *Service) SetTag(ctx context.Context, id, tag string, on bool) (*Person, error) {
	p, err := authz.Require(ctx, authz.RegistryWrite)
	if err != nil {
		return nil, err
	}
	if _, ok := TagSources[tag]; !ok {
		return nil, errs.Invalid("tag", "known", "unknown tag "+tag, "未知标签："+tag)
	}
	dept, err := s.deptOf(ctx, p)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		var scope, blind string
		if err := s.db.QueryRow(ctx, `SELECT scope_key, id_blind FROM reg_people WHERE id = ?`, id).Scan(&scope, &blind); errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("person", id)
		} else if err != nil {
			return err
		}
		if err := inScope(p, scope, "person", id); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		var res sql.Result
		var err error
		if on {
			res, err = s.db.Exec(ctx, `INSERT INTO reg_person_tags (person_id, tag, source_dept, since, scope_key) VALUES (?, ?, ?, ?, ?) ON CONFLICT (person_id, tag) DO NOTHING`, id, tag, dept, now, scope)
		} else {
			res, err = s.db.Exec(ctx, `DELETE FROM reg_person_tags WHERE person_id = ? AND tag = ?`, id, tag)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		old, nw := "", tag
		if !on {
			old, nw = tag, ""
		}
		if err := s.history(ctx, "person", id, "tags", old, nw, false, dept, "", scope); err != nil {
			return err
		}
		return s.evidence(ctx, "registry.person.tag", "person:"+blind, "", "", map[string]any{"tag": tag, "on": on, "source": dept})
	})
	if err != nil {
		return nil, err
	}
	return s.GetPerson(ctx, id, "")
}

// history keeps an old value. Personal values are stored encrypted.
func (s *Service) history(ctx context.Context, kind, recordID, field, old, nw string, sensitive bool, dept, changeID, scope string) error {
	p := authz.From(ctx)
	actorID, actorName := "", ""
	if p != nil {
		actorID, actorName = p.ID, p.Name
	}
	hid := newID()
	if sensitive {
		var err error
		if old, err = s.encrypt(old, "history.old:"+hid); err != nil {
			return err
		}
		if nw, err = s.encrypt(nw, "history.new:"+hid); err != nil {
			return err
		}
	}
	_, err := s.db.Exec(ctx, `INSERT INTO reg_history (id, kind, record_id, field, old_value, new_value, sensitive, source_dept, actor_id, actor_name, change_id, at, scope_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, hid, kind, recordID, field, old, nw, b2i(sensitive), dept, actorID, actorName, changeID, s.now().UnixMilli(), scope)
	return err
}
