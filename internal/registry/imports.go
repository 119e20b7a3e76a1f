package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Import modes.
const (
	ModeDryRun     = "dry-run"        // check every row, write nothing
	ModeAllOrNone  = "all-or-nothing" // write only a file without bad rows
	ModeGoodRows   = "good-rows"      // write the good rows, report the bad
	MaxImportBytes = 512 << 20
	maxRowErrors   = 1000 // errors kept per import (the counts are exact)
)

// Import statuses.
const (
	ImportChecking    = "checking"
	ImportWriting     = "writing"
	ImportDone        = "done"        // checked (dry run) or written
	ImportRejected    = "rejected"    // bad rows in all-or-nothing mode: nothing written
	ImportFailed      = "failed"      // the write failed and was rolled back: nothing written
	ImportCancelled   = "cancelled"   // cancelled by the user: nothing written
	ImportInterrupted = "interrupted" // the server stopped during the import: nothing written
)

// RowError is one bad row of an import file.
type RowError struct {
	Row       int    `json:"row" doc:"Row number in the file (the header is row 1)"`
	Field     string `json:"field"`
	Rule      string `json:"rule"`
	Message   string `json:"message"`
	MessageZh string `json:"messageZh"`
}

// ImportJob is an import and its progress.
type ImportJob struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind" enum:"people,entities,components,buildings"`
	Filename   string     `json:"filename"`
	Mode       string     `json:"mode" enum:"dry-run,all-or-nothing,good-rows"`
	Status     string     `json:"status" enum:"checking,writing,done,rejected,failed,cancelled,interrupted"`
	Total      int        `json:"total" doc:"Data rows in the file"`
	Checked    int        `json:"checked" doc:"Rows checked so far"`
	Good       int        `json:"good"`
	Bad        int        `json:"bad"`
	Written    int        `json:"written" doc:"Rows written so far (committed only when the status is done)"`
	Errors     []RowError `json:"errors" nullable:"false" doc:"The first 1000 bad rows"`
	Message    string     `json:"message,omitempty"`
	FileHash   string     `json:"fileHash"`
	ActorName  string     `json:"actorName"`
	SourceDept string     `json:"sourceDept"`
	CreatedAt  int64      `json:"createdAt"`
	FinishedAt int64      `json:"finishedAt,omitempty"`
}

// importKind describes the columns of one kind of import file.
type importKind struct {
	columns []importColumn
	// prepare validates one row (prefix names the row in errors).
	prepare func(ctx context.Context, s *Service, row map[string]string, prefix string) (any, error)
	// key is the row's unique key (duplicates in one file are errors).
	key func(prepared any) string
	// exists reports which keys are already stored.
	exists func(ctx context.Context, s *Service, keys []string) (map[string]bool, error)
	// addresses lists the addresses the rows live at (nil: none).
	addresses func(rows []prepared) []string
	// households lists the household numbers of the rows (nil: none).
	households func(rows []prepared) []string
	// grid is the row's unit grid ("" when it comes from an address).
	grid func(prepared any) string
	// write stores one prepared row.
	write func(ctx context.Context, w *writer, prepared any, prefix string) error
}

type importColumn struct {
	Key, Zh  string
	Required bool
}

func boolCell(v string) bool { b, _ := boolText("", v); return b == "1" }

func floatPtr(field, v string) (*float64, error) {
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, errs.Invalid(field, "number", "not a number", "不是数字")
	}
	return &f, nil
}

func splitTags(v string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '；' || r == '、' || r == ',' || r == '|' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

var importKinds = map[string]importKind{
	"people": {
		columns: []importColumn{{"idNumber", "身份证号", true}, {"name", "姓名", true}, {"registered", "户籍人口", false}, {"resident", "实有人口", false},
			{"householdNumber", "户号", false}, {"relation", "与户主关系", false}, {"address", "地址", false}, {"gridCode", "网格编码", false},
			{"phone", "联系电话", false}, {"tags", "标签", false}},
		prepare: func(_ context.Context, s *Service, r map[string]string, prefix string) (any, error) {
			in := NewPerson{IDNumber: r["idNumber"], Name: r["name"], Registered: boolCell(r["registered"]), Resident: boolCell(r["resident"]),
				HouseholdNumber: r["householdNumber"], Relation: r["relation"], Address: r["address"], GridCode: r["gridCode"], Phone: r["phone"], Tags: splitTags(r["tags"])}
			for _, f := range []string{"registered", "resident"} {
				if v := r[f]; v != "" {
					if _, err := boolText(prefix+f, v); err != nil {
						return nil, err
					}
				}
			}
			pr, err := s.preparePerson(in, prefix)
			return &pr, err
		},
		key: func(p any) string { return p.(*personRow).blind },
		addresses: func(rows []prepared) []string {
			out := make([]string, 0, len(rows))
			for _, r := range rows {
				if a := r.v.(*personRow).address; a != "" {
					out = append(out, a)
				}
			}
			return out
		},
		households: func(rows []prepared) []string {
			out := make([]string, 0, len(rows))
			for _, r := range rows {
				if h := r.v.(*personRow).householdNumber; h != "" {
					out = append(out, h)
				}
			}
			return out
		},
		grid: func(p any) string { return p.(*personRow).grid },
		exists: func(ctx context.Context, s *Service, keys []string) (map[string]bool, error) {
			return existing(ctx, s.db, "reg_people", "id_blind", keys)
		},
		write: func(ctx context.Context, w *writer, p any, prefix string) error {
			return w.person(ctx, p.(*personRow), prefix)
		},
	},
	"entities": {
		columns: []importColumn{{"creditCode", "统一社会信用代码", true}, {"name", "名称", true}, {"legalRep", "法定代表人", true}, {"industry", "行业门类", true},
			{"address", "地址", true}, {"status", "状态", false}, {"established", "成立日期", false}, {"gridCode", "网格编码", false}, {"lon", "经度", false}, {"lat", "纬度", false}},
		prepare: func(ctx context.Context, s *Service, r map[string]string, prefix string) (any, error) {
			lon, err := floatPtr(prefix+"lon", r["lon"])
			if err != nil {
				return nil, err
			}
			lat, err := floatPtr(prefix+"lat", r["lat"])
			if err != nil {
				return nil, err
			}
			return s.prepareEntity(ctx, NewEntity{CreditCode: r["creditCode"], Name: r["name"], LegalRep: r["legalRep"], Industry: r["industry"], Address: r["address"],
				Status: r["status"], Established: r["established"], GridCode: r["gridCode"], Lon: lon, Lat: lat}, prefix)
		},
		key:  func(p any) string { return p.(*entityRow).code },
		grid: func(p any) string { return p.(*entityRow).grid },
		exists: func(ctx context.Context, s *Service, keys []string) (map[string]bool, error) {
			return existing(ctx, s.db, "reg_entities", "credit_code", keys)
		},
		write: func(ctx context.Context, w *writer, p any, _ string) error { return w.entity(ctx, p.(*entityRow)) },
	},
	"components": {
		columns: []importColumn{{"major", "大类代码", true}, {"minor", "小类代码", true}, {"name", "名称", false}, {"state", "状态", false},
			{"ownerDept", "权属部门", false}, {"address", "地址", false}, {"lon", "经度", false}, {"lat", "纬度", false}, {"gridCode", "网格编码", false}},
		prepare: func(ctx context.Context, s *Service, r map[string]string, prefix string) (any, error) {
			lon, err := floatPtr(prefix+"lon", r["lon"])
			if err != nil {
				return nil, err
			}
			lat, err := floatPtr(prefix+"lat", r["lat"])
			if err != nil {
				return nil, err
			}
			return s.prepareComponent(ctx, NewComponent{Major: r["major"], Minor: r["minor"], Name: r["name"], State: r["state"], OwnerDept: r["ownerDept"],
				Address: r["address"], GridCode: r["gridCode"], Lon: lon, Lat: lat}, prefix)
		},
		key:    func(p any) string { return "" },
		grid:   func(p any) string { return p.(*componentRow).grid },
		exists: func(context.Context, *Service, []string) (map[string]bool, error) { return nil, nil },
		write: func(ctx context.Context, w *writer, p any, _ string) error {
			return w.component(ctx, p.(*componentRow))
		},
	},
	"buildings": {
		columns: []importColumn{{"name", "名称", true}, {"road", "道路", true}, {"houseNo", "门牌号", true}, {"useType", "用途", true}, {"floors", "层数", true},
			{"lon", "经度", false}, {"lat", "纬度", false}, {"gridCode", "网格编码", false}},
		prepare: func(ctx context.Context, s *Service, r map[string]string, prefix string) (any, error) {
			lon, err := floatPtr(prefix+"lon", r["lon"])
			if err != nil {
				return nil, err
			}
			lat, err := floatPtr(prefix+"lat", r["lat"])
			if err != nil {
				return nil, err
			}
			floors, err := strconv.Atoi(r["floors"])
			if err != nil {
				return nil, errs.Invalid(prefix+"floors", "number", "a whole number of floors", "层数应为整数")
			}
			return s.prepareBuilding(ctx, NewBuilding{Name: r["name"], Road: r["road"], HouseNo: r["houseNo"], UseType: r["useType"], Floors: floors, GridCode: r["gridCode"], Lon: lon, Lat: lat}, prefix)
		},
		key:  func(p any) string { return p.(*buildingRow).address },
		grid: func(p any) string { return p.(*buildingRow).grid },
		exists: func(ctx context.Context, s *Service, keys []string) (map[string]bool, error) {
			return existing(ctx, s.db, "reg_buildings", "address", keys)
		},
		write: func(ctx context.Context, w *writer, p any, _ string) error { return w.building(ctx, p.(*buildingRow)) },
	},
}

// ImportKinds lists the import kinds and their columns (for templates).
func ImportKinds() map[string][]importColumn {
	out := map[string][]importColumn{}
	for k, v := range importKinds {
		out[k] = v.columns
	}
	return out
}

func existing(ctx context.Context, d *db.DB, table, col string, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := inBatches(ctx, d, `SELECT `+col+` FROM `+table+` WHERE `+col+` IN `, keys, func(rows *sql.Rows) error {
		var k string
		if err := rows.Scan(&k); err != nil {
			return err
		}
		out[k] = true
		return nil
	})
	return out, err
}

// inBatches runs query (ending in "IN ") for the keys, 500 at a time, and
// scans every row.
func inBatches(ctx context.Context, d *db.DB, query string, keys []string, scan func(*sql.Rows) error) error {
	for len(keys) > 0 {
		n := min(len(keys), 500)
		args := make([]any, n)
		for i, k := range keys[:n] {
			args[i] = k
		}
		keys = keys[n:]
		rows, err := d.Query(ctx, query+`(`+strings.TrimSuffix(strings.Repeat("?,", n), ",")+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// missingOf returns the keys not found.
func missingOf[V any](keys []string, found map[string]V) []string {
	var out []string
	for _, k := range keys {
		if _, ok := found[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// readTable reads a CSV (UTF-8, optional BOM; GB18030 is not accepted) or
// an .xlsx workbook (first sheet) into rows of cells.
func readTable(data []byte) ([][]string, error) {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return nil, errs.Invalid("file", "xlsx", "not a readable Excel workbook: "+err.Error(), "无法读取 Excel 文件："+err.Error())
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, errs.Invalid("file", "xlsx", "the workbook has no sheet", "工作簿中没有工作表")
		}
		rows, err := f.Rows(sheets[0])
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out [][]string
		for rows.Next() {
			cols, err := rows.Columns()
			if err != nil {
				return nil, err
			}
			out = append(out, cols)
		}
		return out, rows.Error()
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !isUTF8(data) {
		return nil, errs.Invalid("file", "encoding", "the CSV file is not UTF-8 (save it as \"CSV UTF-8\")", "CSV 文件不是 UTF-8 编码（请另存为“CSV UTF-8”）")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	var out [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errs.Invalid("file", "csv", "not a valid CSV file: "+err.Error(), "CSV 格式错误："+err.Error())
		}
		out = append(out, rec)
	}
	return out, nil
}

func isUTF8(b []byte) bool {
	const probe = 1 << 16
	if len(b) > probe {
		b = b[:probe]
		// Do not cut a rune in half at the probe's end.
		for i := 0; i < 3 && len(b) > 0 && b[len(b)-1]&0xC0 == 0x80; i++ {
			b = b[:len(b)-1]
		}
		if len(b) > 0 && b[len(b)-1] >= 0xC0 {
			b = b[:len(b)-1]
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD") == string(b)
}

// header maps the file's columns to the kind's keys (English keys or the
// Chinese names, in any order; unknown columns are errors so that nothing
// is silently dropped).
func header(k importKind, cells []string) ([]string, error) {
	keys := make([]string, len(cells))
	seen := map[string]bool{}
	for i, c := range cells {
		c = strings.TrimSpace(c)
		for _, col := range k.columns {
			if strings.EqualFold(c, col.Key) || c == col.Zh {
				keys[i] = col.Key
			}
		}
		if keys[i] == "" && c != "" {
			return nil, errs.Invalid("file", "columns", fmt.Sprintf("unknown column %q (column %d)", c, i+1), fmt.Sprintf("未知的列“%s”（第 %d 列）", c, i+1))
		}
		if keys[i] != "" && seen[keys[i]] {
			return nil, errs.Invalid("file", "columns", fmt.Sprintf("column %q appears twice", c), fmt.Sprintf("列“%s”重复", c))
		}
		seen[keys[i]] = true
	}
	for _, col := range k.columns {
		if col.Required && !seen[col.Key] {
			return nil, errs.Invalid("file", "columns", "missing column "+col.Key+" ("+col.Zh+")", "缺少列“"+col.Zh+"”（"+col.Key+"）")
		}
	}
	return keys, nil
}

// jobs tracks the imports running in this process.
type jobs struct {
	mu  sync.Mutex
	run map[string]*running
}

type running struct {
	job     ImportJob
	checked atomic.Int64
	written atomic.Int64
	cancel  context.CancelFunc
	done    chan struct{}
}

func newJobs() *jobs { return &jobs{run: map[string]*running{}} }

// StartImport checks the file's format and columns at once, then checks
// every row and (unless a dry run) writes in the background, in one
// transaction: an import is written whole or not at all.
func (s *Service) StartImport(ctx context.Context, kind, filename, mode string, data []byte) (*ImportJob, error) {
	p, err := authz.Require(ctx, authz.RegistryImport)
	if err != nil {
		return nil, err
	}
	k, ok := importKinds[kind]
	if !ok {
		return nil, errs.Invalid("kind", "enum", "one of people, entities, components, buildings", "应为 people、entities、components、buildings 之一")
	}
	switch mode {
	case ModeDryRun, ModeAllOrNone, ModeGoodRows:
	default:
		return nil, errs.Invalid("mode", "enum", "one of dry-run, all-or-nothing, good-rows", "应为 dry-run、all-or-nothing、good-rows 之一")
	}
	if len(data) == 0 {
		return nil, errs.Invalid("file", "required", "the file is empty", "文件为空")
	}
	dept, err := s.deptOf(ctx, p)
	if err != nil {
		return nil, err
	}
	table, err := readTable(data)
	if err != nil {
		return nil, err
	}
	if len(table) < 2 {
		return nil, errs.Invalid("file", "rows", "the file has no data rows under its header", "文件没有数据行")
	}
	keys, err := header(k, table[0])
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	now := s.now().UnixMilli()
	job := ImportJob{ID: newID(), Kind: kind, Filename: filename, Mode: mode, Status: ImportChecking, Total: len(table) - 1,
		Errors: []RowError{}, FileHash: hex.EncodeToString(sum[:]), ActorName: p.Name, SourceDept: dept, CreatedAt: now}
	if _, err := s.db.Exec(ctx, `INSERT INTO reg_imports (id, kind, filename, mode, status, total_rows, file_hash, actor_id, actor_name, source_dept, scope_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, job.ID, kind, filename, mode, job.Status, job.Total, job.FileHash, p.ID, p.Name, dept, p.Scope, now); err != nil {
		return nil, err
	}
	// The import outlives the request, as the caller.
	bg, cancel := context.WithCancel(authz.With(context.WithoutCancel(ctx), p))
	r := &running{job: job, cancel: cancel, done: make(chan struct{})}
	s.jobs.mu.Lock()
	s.jobs.run[job.ID] = r
	s.jobs.mu.Unlock()
	go func() {
		defer close(r.done)
		defer cancel()
		s.runImport(bg, p, dept, k, keys, table[1:], r)
		s.jobs.mu.Lock()
		delete(s.jobs.run, job.ID)
		s.jobs.mu.Unlock()
	}()
	out := job
	return &out, nil
}

// prepared is one checked row.
type prepared struct {
	row int
	v   any
	key string
}

func (s *Service) runImport(ctx context.Context, p *authz.Principal, dept string, k importKind, keys []string, rows [][]string, r *running) {
	// The goroutine works on its own copy; readers see r.job (under the
	// jobs lock) and the stored row.
	s.jobs.mu.Lock()
	job := &ImportJob{}
	*job = r.job
	s.jobs.mu.Unlock()
	finish := func(status, msg string) {
		job.Status, job.Message, job.FinishedAt = status, msg, s.now().UnixMilli()
		job.Checked, job.Written = int(r.checked.Load()), int(r.written.Load())
		if status != ImportDone || job.Mode == ModeDryRun {
			job.Written = 0
		}
		errsJSON, _ := json.Marshal(job.Errors)
		if _, err := s.db.Exec(context.WithoutCancel(ctx), `UPDATE reg_imports SET status = ?, good_rows = ?, bad_rows = ?, written = ?, errors = ?, message = ?, finished_at = ? WHERE id = ?`,
			status, job.Good, job.Bad, job.Written, string(errsJSON), msg, job.FinishedAt, job.ID); err != nil {
			s.log.Error("import: record the result", "id", job.ID, "err", err)
		}
		s.jobs.mu.Lock()
		r.job = *job
		s.jobs.mu.Unlock()
	}
	all, mine, err := s.gridSets(ctx, p)
	if err != nil {
		finish(ImportFailed, err.Error())
		return
	}
	c := &checker{s: s, k: k, keys: keys, rows: rows, r: r, job: job, all: all, mine: mine, seen: map[string]int{}}
	// Rows in grid order: the scope indexes then grow at a few places
	// instead of everywhere.
	byGrid := func(part []prepared) {
		slices.SortStableFunc(part, func(a, b prepared) int { return strings.Compare(k.grid(a.v), k.grid(b.v)) })
	}
	if job.Mode == ModeDryRun {
		for start := 0; start < len(rows); start += importChunk {
			if _, err := c.chunk(ctx, start); err != nil {
				finish(ImportFailed, err.Error())
				return
			}
		}
		if ctx.Err() != nil {
			finish(ImportCancelled, "cancelled while checking")
			return
		}
		finish(ImportDone, "")
		return
	}
	// Check and write at once: chunks of checked rows go to the writer,
	// inside one transaction, while the next chunk is checked. In
	// all-or-nothing mode the first bad row stops both and rolls back.
	errRejected := errors.New("rejected")
	err = s.db.InTx(ctx, func(txctx context.Context) error {
		w := s.newWriter(txctx, p, dept)
		defer w.close()
		if err := w.bulk(txctx); err != nil {
			return err
		}
		type batch struct {
			rows      []prepared
			found     map[string]addrRef
			miss      []string
			holds     map[string]string
			holdsMiss []string
		}
		batches := make(chan batch, 2)
		werr := make(chan error, 1)
		go func() {
			var err error
			for b := range batches {
				if err != nil || txctx.Err() != nil {
					continue // drain
				}
				maps.Copy(w.addrs, b.found)
				for _, t := range b.miss {
					w.missing[t] = true
				}
				maps.Copy(w.holds, b.holds)
				for _, h := range b.holdsMiss {
					w.missingHolds[h] = true
				}
				for _, pr := range b.rows {
					if err = k.write(txctx, w, pr.v, ""); err != nil {
						var e *errs.Error
						if errors.As(err, &e) {
							err = fmt.Errorf("row %d: %w", pr.row, err)
						}
						break
					}
					r.written.Add(1)
				}
			}
			werr <- err
		}()
		var cerr error
		for start := 0; start < len(rows); start += importChunk {
			part, err := c.chunk(ctx, start)
			if err != nil {
				cerr = err
				break
			}
			if job.Bad > 0 && job.Mode == ModeAllOrNone {
				break
			}
			if start == 0 {
				s.setStatus(r, ImportWriting, job.Good, job.Bad)
			}
			byGrid(part)
			b := batch{rows: part}
			if k.addresses != nil {
				// Addresses already stored, looked up outside the
				// transaction (committed ones are all there is to find).
				if b.found, b.miss, err = s.knownAddresses(ctx, k.addresses(part)); err != nil {
					cerr = err
					break
				}
			}
			if k.households != nil {
				if b.holds, b.holdsMiss, err = s.knownHouseholds(ctx, k.households(part)); err != nil {
					cerr = err
					break
				}
			}
			batches <- b
		}
		close(batches)
		if err := <-werr; err != nil {
			return err
		}
		if cerr != nil {
			return cerr
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if job.Bad > 0 && job.Mode == ModeAllOrNone {
			return errRejected
		}
		if err := w.flush(txctx); err != nil {
			return err
		}
		return s.evidence(txctx, "registry.import", "import:"+job.ID, "", "", map[string]any{"kind": job.Kind, "file": job.Filename, "sha256": job.FileHash, "rows": job.Good, "source": dept})
	})
	switch {
	case err == nil:
		finish(ImportDone, "")
	case errors.Is(err, errRejected):
		// Count the rest of the file so that the report is complete.
		for start := c.next; start < len(rows) && ctx.Err() == nil; start += importChunk {
			if _, err := c.chunk(ctx, start); err != nil {
				break
			}
		}
		finish(ImportRejected, fmt.Sprintf("%d bad rows: nothing written", job.Bad))
	case ctx.Err() != nil:
		finish(ImportCancelled, "cancelled: nothing written")
	default:
		s.log.Warn("import failed", "id", job.ID, "err", err)
		finish(ImportFailed, err.Error()+": nothing written")
	}
}

// importChunk is the number of rows checked before they go to the writer.
const importChunk = 50_000

// checker checks the rows of an import a chunk at a time.
type checker struct {
	s         *Service
	k         importKind
	keys      []string
	rows      [][]string
	r         *running
	job       *ImportJob
	all, mine map[string]bool
	seen      map[string]int // row key -> first row with it
	next      int            // first row not yet checked
}

// chunk checks rows [start, start+importChunk): each on all cores, then
// duplicates (in the file and in the registry) and grids. Bad rows are
// counted in the job; the good ones are returned.
func (c *checker) chunk(ctx context.Context, start int) ([]prepared, error) {
	end := min(len(c.rows), start+importChunk)
	c.next = end
	rows := c.rows[start:end]
	good := make([]prepared, len(rows))
	bad := make([][]RowError, len(rows))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			cells := map[string]string{}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(rows) || ctx.Err() != nil {
					return
				}
				clear(cells)
				for j, key := range c.keys {
					if key != "" && j < len(rows[i]) {
						cells[key] = strings.TrimSpace(rows[i][j])
					}
				}
				rowNo := start + i + 2
				for _, col := range c.k.columns {
					if col.Required && cells[col.Key] == "" {
						bad[i] = append(bad[i], RowError{Row: rowNo, Field: col.Key, Rule: "required", Message: "required", MessageZh: col.Zh + "必填"})
					}
				}
				if bad[i] == nil {
					v, err := c.k.prepare(ctx, c.s, cells, "")
					if err != nil {
						bad[i] = rowErrors(rowNo, err)
					} else {
						good[i] = prepared{row: rowNo, v: v, key: c.k.key(v)}
					}
				}
				c.r.checked.Add(1)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var keyList []string
	for i := range good {
		if good[i].v == nil || good[i].key == "" {
			continue
		}
		if first, dup := c.seen[good[i].key]; dup {
			bad[i] = append(bad[i], RowError{Row: good[i].row, Field: c.k.columns[0].Key, Rule: "unique", Message: fmt.Sprintf("the same record as row %d", first), MessageZh: fmt.Sprintf("与第 %d 行重复", first)})
			good[i].v = nil
			continue
		}
		c.seen[good[i].key] = good[i].row
		keyList = append(keyList, good[i].key)
	}
	ex, err := c.k.exists(ctx, c.s, keyList)
	if err != nil {
		return nil, err
	}
	var out []prepared
	for i := range good {
		if good[i].v != nil && ex[good[i].key] {
			bad[i] = append(bad[i], RowError{Row: good[i].row, Field: c.k.columns[0].Key, Rule: "exists", Message: "already registered", MessageZh: "已登记"})
			good[i].v = nil
		}
		if good[i].v != nil {
			switch g := c.k.grid(good[i].v); {
			case g == "":
			case !c.all[g]:
				bad[i] = append(bad[i], RowError{Row: good[i].row, Field: "gridCode", Rule: "exists", Message: "no such unit grid " + g, MessageZh: "网格不存在：" + g})
				good[i].v = nil
			case !c.mine[g]:
				bad[i] = append(bad[i], RowError{Row: good[i].row, Field: "gridCode", Rule: "scope", Message: "the grid " + g + " lies outside your region", MessageZh: "网格 " + g + " 不在您的管辖范围内"})
				good[i].v = nil
			}
		}
		if bad[i] != nil {
			c.job.Bad++
			if len(c.job.Errors) < maxRowErrors {
				c.job.Errors = append(c.job.Errors, bad[i]...)
			}
		} else if good[i].v != nil {
			out = append(out, good[i])
		}
	}
	c.job.Good += len(out)
	return out, nil
}

// knownHouseholds looks household numbers up in batches (committed ones).
func (s *Service) knownHouseholds(ctx context.Context, numbers []string) (map[string]string, []string, error) {
	slices.Sort(numbers)
	numbers = slices.Compact(numbers)
	found := map[string]string{}
	err := inBatches(ctx, s.db, `SELECT number, id FROM reg_households WHERE number IN `, numbers, func(rows *sql.Rows) error {
		var num, id string
		if err := rows.Scan(&num, &id); err != nil {
			return err
		}
		found[num] = id
		return nil
	})
	return found, missingOf(numbers, found), err
}

// knownAddresses looks addresses up in batches (committed ones), so that
// the writer inserts the new ones without asking one by one.
func (s *Service) knownAddresses(ctx context.Context, texts []string) (map[string]addrRef, []string, error) {
	slices.Sort(texts)
	texts = slices.Compact(texts)
	found := map[string]addrRef{}
	err := inBatches(ctx, s.db, `SELECT full_text, id, grid_code FROM reg_addresses WHERE full_text IN `, texts, func(rows *sql.Rows) error {
		var t string
		var a addrRef
		if err := rows.Scan(&t, &a.id, &a.grid); err != nil {
			return err
		}
		found[t] = a
		return nil
	})
	return found, missingOf(texts, found), err
}

// setStatus moves a running import to status. It is called inside the
// import's own transaction, and the stored row is updated outside it (for
// other replicas to see) only on PostgreSQL: with SQLite that transaction
// holds the one writer, so the update waited out db's 10-second write wait
// and failed, stalling every import; this process shows the live status
// from memory (GetImport), and the final one is stored when it ends.
func (s *Service) setStatus(r *running, status string, good, bad int) {
	s.jobs.mu.Lock()
	r.job.Status, r.job.Good, r.job.Bad = status, good, bad
	id := r.job.ID
	s.jobs.mu.Unlock()
	if s.db.Dialect() == db.SQLite {
		return
	}
	_, _ = s.db.Exec(context.Background(), `UPDATE reg_imports SET status = ?, good_rows = ?, bad_rows = ? WHERE id = ?`, status, good, bad, id)
}

func rowErrors(row int, err error) []RowError {
	var e *errs.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		out := make([]RowError, len(e.Fields))
		for i, f := range e.Fields {
			out[i] = RowError{Row: row, Field: f.Field, Rule: f.Rule, Message: f.Message, MessageZh: f.MessageZh}
		}
		return out
	}
	if e != nil {
		return []RowError{{Row: row, Rule: string(e.Code), Message: e.Message, MessageZh: e.MessageZh}}
	}
	return []RowError{{Row: row, Rule: "error", Message: err.Error(), MessageZh: err.Error()}}
}

// GetImport returns an import with its live progress.
func (s *Service) GetImport(ctx context.Context, id string) (*ImportJob, error) {
	p, err := authz.Require(ctx, authz.RegistryImport)
	if err != nil {
		return nil, err
	}
	s.jobs.mu.Lock()
	r, ok := s.jobs.run[id]
	var live ImportJob
	if ok {
		live = r.job
		live.Checked, live.Written = int(r.checked.Load()), int(r.written.Load())
	}
	s.jobs.mu.Unlock()
	j, actor, err := s.loadImport(ctx, id)
	if err != nil {
		return nil, err
	}
	if actor != p.ID && !p.Nationwide && !p.HasRole(authz.DeptHead) {
		return nil, errs.NotFound("import", id)
	}
	if ok && (live.Status == ImportChecking || live.Status == ImportWriting) {
		live.Errors = []RowError{}
		return &live, nil
	}
	return j, nil
}

func (s *Service) loadImport(ctx context.Context, id string) (*ImportJob, string, error) {
	var j ImportJob
	var errsJSON, actor string
	err := s.db.QueryRow(ctx, `SELECT id, kind, filename, mode, status, total_rows, good_rows, bad_rows, written, errors, message, file_hash, actor_id, actor_name, source_dept, created_at, finished_at
		FROM reg_imports WHERE id = ?`, id).Scan(&j.ID, &j.Kind, &j.Filename, &j.Mode, &j.Status, &j.Total, &j.Good, &j.Bad, &j.Written, &errsJSON, &j.Message, &j.FileHash, &actor, &j.ActorName, &j.SourceDept, &j.CreatedAt, &j.FinishedAt)
	if err != nil {
		return nil, "", errs.NotFound("import", id)
	}
	j.Errors = []RowError{}
	_ = json.Unmarshal([]byte(errsJSON), &j.Errors)
	if j.FinishedAt != 0 {
		j.Checked = j.Total
	}
	return &j, actor, nil
}

// WaitImport waits until an import of this process finishes (tests, CLI).
func (s *Service) WaitImport(ctx context.Context, id string) (*ImportJob, error) {
	s.jobs.mu.Lock()
	r, ok := s.jobs.run[id]
	s.jobs.mu.Unlock()
	if ok {
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.GetImport(ctx, id)
}

// CancelImport stops a running import; nothing of it is written.
func (s *Service) CancelImport(ctx context.Context, id string) (*ImportJob, error) {
	if _, err := s.GetImport(ctx, id); err != nil {
		return nil, err
	}
	s.jobs.mu.Lock()
	r, ok := s.jobs.run[id]
	s.jobs.mu.Unlock()
	if !ok {
		return nil, errs.Conflict("status", "the import is not running", "导入未在进行中")
	}
	r.cancel()
	<-r.done
	return s.GetImport(ctx, id)
}

// ListImports lists the caller's imports (all of the region's for heads).
func (s *Service) ListImports(ctx context.Context, limit, offset int) ([]ImportJob, int, error) {
	p, err := authz.Require(ctx, authz.RegistryImport)
	if err != nil {
		return nil, 0, err
	}
	cond, args := "actor_id = ?", []any{p.ID}
	if p.HasRole(authz.DeptHead) || p.Nationwide {
		lo, hi := p.ScopeRange()
		cond, args = "(actor_id = ? OR (scope_key >= ? AND scope_key < ?))", []any{p.ID, lo, hi}
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM reg_imports WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT id FROM reg_imports WHERE `+cond+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []ImportJob{}
	for _, id := range ids {
		j, err := s.GetImport(ctx, id)
		if err != nil {
			return nil, 0, err
		}
		j.Errors = []RowError{}
		out = append(out, *j)
	}
	return out, total, nil
}

// RecoverImports marks imports that were running when the process stopped
// as interrupted (their transaction rolled back: nothing was written).
func (s *Service) RecoverImports(ctx context.Context) error {
	_, err := s.db.Exec(ctx, `UPDATE reg_imports SET status = ?, message = 'the server stopped during the import: nothing written', finished_at = ? WHERE finished_at = 0`,
		ImportInterrupted, time.Now().UnixMilli())
	return err
}

// gridSets returns every grid code, and those in the caller's region.
func (s *Service) gridSets(ctx context.Context, p *authz.Principal) (all, mine map[string]bool, err error) {
	grids, err := s.dir.Grids(ctx)
	if err != nil {
		return nil, nil, err
	}
	all, mine = make(map[string]bool, len(grids)), map[string]bool{}
	for code := range grids {
		all[code] = true
		if p.InScope(code) {
			mine[code] = true
		}
	}
	return all, mine, nil
}
