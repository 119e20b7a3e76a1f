package cases

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

const v1 = "/api/v1"

func op(id, method, path, summary string) huma.Operation {
	return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{"Cases (一网统管)"}}
}

// CaseQuery filters the case list.
type CaseQuery struct {
	Within   string `query:"within" maxLength:"15" pattern:"^[0-9]*$" doc:"Division or grid code"`
	State    string `query:"state" maxLength:"100" doc:"Comma-separated states"`
	Category string `query:"category" maxLength:"5" doc:"Category code or prefix (E04)"`
	Channel  string `query:"channel" enum:"grid,portal,open311,hotline,sensor,video,referral,"`
	OrgID    string `query:"orgId" maxLength:"36" doc:"Unit the cases are with"`
	Dept     string `query:"dept" maxLength:"16"`
	Warning  int    `query:"warning" minimum:"0" maximum:"2" doc:"At least this warning: 1 yellow, 2 red"`
	From     string `query:"from" maxLength:"30" doc:"Reported at or after (RFC 3339 or YYYY-MM-DD)"`
	To       string `query:"to" maxLength:"30" doc:"Reported before (RFC 3339 or YYYY-MM-DD)"`
	Q        string `query:"q" maxLength:"64" doc:"Case number, or description or address contains"`
	Queue    bool   `query:"queue" doc:"The operators' queue: waiting to be filed or dispatched"`
	Mine     bool   `query:"mine" doc:"Only cases I reported"`
	BBox     string `query:"bbox" maxLength:"100" doc:"west,south,east,north (WGS84)"`
}

func parseTime(field, v string, end bool) (int64, error) {
	if v == "" {
		return 0, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UnixMilli(), nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, cst)
	if err != nil {
		return 0, errs.Invalid(field, "format", "must be RFC 3339 or YYYY-MM-DD", "应为 RFC 3339 或 YYYY-MM-DD 格式")
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t.UnixMilli(), nil
}

func parseBBox(field, v string) (*[4]float64, error) {
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return nil, errs.Invalid(field, "format", "must be west,south,east,north", "应为 西,南,东,北")
	}
	var b [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, errs.Invalid(field, "format", "must be four numbers", "应为四个数字")
		}
		b[i] = f
	}
	if b[0] > b[2] || b[1] > b[3] {
		return nil, errs.Invalid(field, "order", "west must not exceed east, nor south north", "西不能大于东，南不能大于北")
	}
	return &b, nil
}

func (q CaseQuery) filter() (Filter, error) {
	f := Filter{Within: q.Within, Category: q.Category, Channel: q.Channel, OrgID: q.OrgID, Dept: q.Dept, Warning: q.Warning, Q: q.Q, Queue: q.Queue, Mine: q.Mine}
	for _, st := range strings.Split(q.State, ",") {
		if st = strings.TrimSpace(st); st == "" {
			continue
		}
		valid := false
		for _, k := range append(append([]State{}, OpenStates...), Closed, Rejected, Merged) {
			if State(st) == k {
				valid = true
			}
		}
		if !valid {
			return f, errs.Invalid("state", "enum", "unknown state "+st, "未知状态 "+st)
		}
		f.States = append(f.States, State(st))
	}
	var err error
	if f.From, err = parseTime("from", q.From, false); err != nil {
		return f, err
	}
	if f.To, err = parseTime("to", q.To, true); err != nil {
		return f, err
	}
	f.BBox, err = parseBBox("bbox", q.BBox)
	return f, err
}

// NewCase is the body of a new case from the console, the grid workers'
// page, the portal or the hotline screen.
type NewCase struct {
	Channel       string   `json:"channel" enum:"grid,portal,hotline,referral"`
	Category      string   `json:"category,omitempty" maxLength:"5"`
	Description   string   `json:"description" minLength:"4" maxLength:"2000"`
	Address       string   `json:"address,omitempty" maxLength:"200"`
	Lon           *float64 `json:"lon,omitempty"`
	Lat           *float64 `json:"lat,omitempty"`
	Component     string   `json:"component,omitempty" maxLength:"16"`
	ReporterName  string   `json:"reporterName,omitempty" maxLength:"50"`
	ReporterPhone string   `json:"reporterPhone,omitempty" maxLength:"20"`
	ExternalID    string   `json:"externalId,omitempty" maxLength:"64" doc:"Hotline ticket or the referring level's number"`
	Photos        []Photo  `json:"photos,omitempty" maxItems:"6" doc:"Photos (data: base64), JPEG, PNG or WebP, up to 5 MB each"`
}

// Routes registers the module's HTTP API.
func (s *Service) Routes(api huma.API) {
	type listIn struct {
		CaseQuery
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("list-cases", http.MethodGet, v1+"/cases", "List cases in your region, of your unit, or reported by you")},
		func(ctx context.Context, in *listIn) (*httpx.Body[*httpx.Page[Case]], error) {
			f, err := in.filter()
			if err != nil {
				return nil, err
			}
			list, total, err := s.List(ctx, f, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})

	type exportIn struct {
		CaseQuery
		httpx.ExportQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("export-cases", http.MethodGet, v1+"/cases/export", "Export cases (xlsx or csv)"), Perm: authz.CasesRead},
		func(ctx context.Context, in *exportIn) (*httpx.File, error) {
			f, err := in.filter()
			if err != nil {
				return nil, err
			}
			list, _, err := s.List(ctx, f, httpx.MaxExportRows, 0)
			if err != nil {
				return nil, err
			}
			rows := make([][]string, len(list))
			for i, c := range list {
				rows[i] = []string{c.No, channelZh[c.Channel], stateZh[c.State], c.Category, c.CategoryName, c.Description, c.Address, c.Grid, c.OrgName,
					fmtMs(c.CreatedAt), fmtMs(c.DispatchedAt), fmtMs(c.DeadlineAt), fmtMs(c.ClosedAt), warningZh[c.Warning], ratingZh[c.Rating]}
			}
			return httpx.Export("cases", in.Format, []string{"案件编号", "来源", "状态", "类别代码", "类别", "描述", "地址", "网格", "承办单位", "上报时间", "派遣时间", "处置期限", "结案时间", "预警", "评价"}, rows)
		})

	httpx.Register(api, httpx.Op{Operation: op("report-case", http.MethodPost, v1+"/cases", "Report a case: located, classified, checked for duplicates and, when sure, dispatched at once"), Perm: authz.CasesReport},
		func(ctx context.Context, in *struct{ Body NewCase }) (*httpx.Body[*Intake], error) {
			b := in.Body
			res, err := s.Report(ctx, Report{Channel: b.Channel, Category: b.Category, Description: b.Description, Address: b.Address, Lon: b.Lon, Lat: b.Lat,
				Component: b.Component, ReporterName: b.ReporterName, ReporterPhone: b.ReporterPhone, ExternalID: b.ExternalID, Photos: b.Photos})
			if err != nil {
				return nil, err
			}
			return httpx.Reply(res), nil
		})

	httpx.Register(api, httpx.Op{Operation: op("classify-case", http.MethodPost, v1+"/cases/classify", "Propose categories for a description"), Perm: authz.CasesReport},
		func(ctx context.Context, in *struct {
			Body struct {
				Description string `json:"description" minLength:"1" maxLength:"2000"`
			}
		}) (*httpx.Body[[]Candidate], error) {
			out, err := s.Classify(ctx, in.Body.Description)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(out), nil
		})

	httpx.Register(api, httpx.Op{Operation: op("case-places", http.MethodGet, v1+"/cases/places", "Find a place to report about (addresses, buildings, components, organisations, divisions) without GPS"), Perm: authz.CasesReport},
		func(ctx context.Context, in *struct {
			Q     string `query:"q" minLength:"1" maxLength:"64" doc:"Name, address or code"`
			Limit int    `query:"limit" default:"10" minimum:"1" maximum:"20"`
		}) (*httpx.Body[[]PlaceHit], error) {
			out, err := s.Places(ctx, in.Q, in.Limit)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(out), nil
		})

	type caseIn struct {
		ID      string `path:"id" maxLength:"36"`
		Purpose string `query:"purpose" enum:"case-handling," doc:"case-handling: show the reporter's contact in clear (recorded on the ledger)"`
	}
	httpx.Register(api, httpx.Op{Operation: op("get-case", http.MethodGet, v1+"/cases/{id}", "A case with its timeline and photos (by id or number)")},
		func(ctx context.Context, in *caseIn) (*httpx.Body[*Detail], error) {
			d, err := s.Get(ctx, in.ID, in.Purpose)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(d), nil
		})

	type actIn struct {
		ID     string `path:"id" maxLength:"36"`
		Action string `path:"action" enum:"file,reject,dispatch,return,handle,verify-pass,verify-fail,postpone-request,postpone-approve,postpone-reject,suspend,resume,merge,escalate,reopen,rate,comment"`
		Body   *ActionInput
	}
	httpx.Register(api, httpx.Op{Operation: op("act-on-case", http.MethodPost, v1+"/cases/{id}/actions/{action}", "One step of the loop: file, dispatch, handle, verify, merge, rate, …")},
		func(ctx context.Context, in *actIn) (*httpx.Body[*Case], error) {
			var body ActionInput
			if in.Body != nil {
				body = *in.Body
			}
			c, err := s.Act(ctx, in.ID, in.Action, body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(c), nil
		})

	httpx.Register(api, httpx.Op{Operation: op("case-duplicates", http.MethodGet, v1+"/cases/{id}/duplicates", "Open cases that may be the same thing"), Perm: authz.CasesRead},
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"36"`
		}) (*httpx.Body[[]Suggestion], error) {
			out, err := s.SuggestDuplicates(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(out), nil
		})

	type photoOut struct {
		ContentType  string `header:"Content-Type"`
		CacheControl string `header:"Cache-Control"`
		Body         []byte
	}
	httpx.Register(api, httpx.Op{Operation: op("case-photo", http.MethodGet, v1+"/cases/{id}/photos/{photo}", "A photo of a case")},
		func(ctx context.Context, in *struct {
			ID    string `path:"id" maxLength:"36"`
			Photo string `path:"photo" maxLength:"36"`
		}) (*photoOut, error) {
			mime, data, err := s.PhotoData(ctx, in.ID, in.Photo)
			if err != nil {
				return nil, err
			}
			return &photoOut{ContentType: mime, CacheControl: "private, max-age=3600", Body: data}, nil
		})

	httpx.Register(api, httpx.Op{Operation: op("list-case-categories", http.MethodGet, v1+"/case-categories", "Component and event categories (GB/T 30428.2)")},
		func(ctx context.Context, in *struct {
			Active bool `query:"active" doc:"Only active categories"`
		}) (*httpx.Body[[]Category], error) {
			out, err := s.Categories(ctx, in.Active)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(out), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("put-case-category", http.MethodPut, v1+"/case-categories/{code}", "Create or edit a category (a new version)"), Perm: authz.CasesConfigure},
		func(ctx context.Context, in *struct {
			Code string `path:"code" maxLength:"5"`
			Body CategoryInput
		}) (*httpx.Body[*Category], error) {
			c, err := s.PutCategory(ctx, in.Code, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(c), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("case-category-versions", http.MethodGet, v1+"/case-categories/{code}/versions", "Every version of a category"), Perm: authz.CasesRead},
		func(ctx context.Context, in *struct {
			Code string `path:"code" maxLength:"5"`
		}) (*httpx.Body[[]map[string]any], error) {
			out, err := s.CategoryVersions(ctx, in.Code)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(out), nil
		})

	httpx.Register(api, httpx.Op{Operation: op("list-case-area-rules", http.MethodGet, v1+"/case-area-rules", "Departments by area"), Perm: authz.CasesRead},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[[]AreaRule], error) {
			out, err := s.AreaRules(ctx)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = []AreaRule{}
			}
			return httpx.Reply(out), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("add-case-area-rule", http.MethodPost, v1+"/case-area-rules", "Add a department-by-area rule"), Perm: authz.CasesConfigure},
		func(ctx context.Context, in *struct{ Body NewAreaRule }) (*httpx.Body[*AreaRule], error) {
			r, err := s.AddAreaRule(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("delete-case-area-rule", http.MethodDelete, v1+"/case-area-rules/{id}", "Remove a department-by-area rule"), Perm: authz.CasesConfigure},
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"36"`
		}) (*httpx.Empty, error) {
			return &httpx.Empty{}, s.DeleteAreaRule(ctx, in.ID)
		})

	type noticesIn struct {
		Unread bool `query:"unread"`
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("list-case-notices", http.MethodGet, v1+"/case-notices", "Notices to me and my unit: dispatches, warnings, escalations, progress")},
		func(ctx context.Context, in *noticesIn) (*httpx.Body[*httpx.Page[Notice]], error) {
			list, total, err := s.Notices(ctx, in.Unread, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("read-case-notices", http.MethodPost, v1+"/case-notices/read", "Mark notices read (all when ids is empty)")},
		func(ctx context.Context, in *struct {
			Body struct {
				IDs []string `json:"ids,omitempty" maxItems:"500"`
			}
		}) (*httpx.Empty, error) {
			return &httpx.Empty{}, s.ReadNotices(ctx, in.Body.IDs)
		})
	s.alarmRoutes(api)
}

var channelZh = map[string]string{"grid": "网格员上报", "portal": "市民网上反映", "open311": "Open311 接口", "hotline": "12345 热线", "sensor": "物联感知", "video": "视频智能识别", "referral": "上级交办"}
var warningZh = map[int]string{0: "", 1: "黄灯", 2: "红灯"}
var ratingZh = map[string]string{"": "", "satisfied": "满意", "basically": "基本满意", "dissatisfied": "不满意"}

func fmtMs(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).In(cst).Format("2006-01-02 15:04")
}
