package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

const v1 = "/api/v1"

func op(id, method, path, summary string) huma.Operation {
	return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{"Base data"}}
}

// Query and path parameter structs are exported: huma reads parameters
// only from exported embedded structs.

// PurposeQuery states why personal fields are needed in clear.
type PurposeQuery struct {
	Purpose string `query:"purpose" maxLength:"32" doc:"Purpose of use (see /api/v1/registry/purposes); without it personal fields are masked. Clear reads are recorded on the ledger."`
}

// WithinQuery narrows a list to a division or grid.
type WithinQuery struct {
	Within string `query:"within" maxLength:"15" pattern:"^[0-9]*$" doc:"Division (6, 9 or 12 digits) or unit grid (15 digits)"`
}

// PeopleQuery filters people.
type PeopleQuery struct {
	WithinQuery
	PurposeQuery
	Tag        string `query:"tag" maxLength:"32" doc:"Special-care tag"`
	Registered string `query:"registered" enum:"true,false," doc:"户籍人口"`
	Resident   string `query:"resident" enum:"true,false," doc:"实有人口"`
	Status     string `query:"status" enum:"active,moved-out,deceased,"`
	Q          string `query:"q" maxLength:"18" doc:"ID number (exact)"`
	Address    string `query:"address" maxLength:"64" doc:"Address contains"`
}

func optBool(s string) *bool {
	if s == "" {
		return nil
	}
	b := s == "true"
	return &b
}

func (q PeopleQuery) filter() PersonFilter {
	return PersonFilter{Within: q.Within, Tag: q.Tag, Registered: optBool(q.Registered), Resident: optBool(q.Resident), Status: q.Status,
		IDNumber: q.Q, Address: q.Address, Purpose: q.Purpose}
}

// BuildingQuery filters buildings.
type BuildingQuery struct {
	WithinQuery
	UseType string `query:"useType" enum:"residential,commercial,office,mixed,public,industrial,"`
	Q       string `query:"q" maxLength:"64" doc:"Address or name contains, or the code"`
}

// ComponentQuery filters components.
type ComponentQuery struct {
	WithinQuery
	Major string `query:"major" pattern:"^([0-9]{2})?$"`
	Minor string `query:"minor" pattern:"^([0-9]{2})?$"`
	State string `query:"state" enum:"normal,damaged,missing,removed,"`
	Owner string `query:"ownerDept" maxLength:"16"`
	BBox  string `query:"bbox" maxLength:"100" doc:"west,south,east,north in WGS84 degrees"`
	Q     string `query:"q" maxLength:"64" doc:"Code prefix, or name or address contains"`
}

func (q ComponentQuery) filter() (ComponentFilter, error) {
	f := ComponentFilter{Within: q.Within, Major: q.Major, Minor: q.Minor, State: q.State, Owner: q.Owner, Q: q.Q}
	if q.BBox != "" {
		b, err := ParseBBox("bbox", q.BBox)
		if err != nil {
			return f, err
		}
		f.BBox = b
	}
	return f, nil
}

// ParseBBox parses "west,south,east,north".
func ParseBBox(field, s string) (*[4]float64, error) {
	parts := strings.Split(s, ",")
	var b [4]float64
	bad := errs.Invalid(field, "bbox", "four numbers west,south,east,north with west < east and south < north", "应为四个数：西,南,东,北（西<东，南<北）")
	if len(parts) != 4 {
		return nil, bad
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, bad
		}
		b[i] = v
	}
	if b[0] >= b[2] || b[1] >= b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 {
		return nil, bad
	}
	return &b, nil
}

// EntityQuery filters organisations.
type EntityQuery struct {
	WithinQuery
	PurposeQuery
	Kind     string `query:"kind" enum:"enterprise,individual,social,institution,other,"`
	Industry string `query:"industry" pattern:"^[A-T]?$"`
	Status   string `query:"status" enum:"active,revoked,cancelled,moved-out,"`
	Q        string `query:"q" maxLength:"100" doc:"Name contains, or the credit code"`
}

func (q EntityQuery) filter() EntityFilter {
	return EntityFilter{Within: q.Within, Kind: q.Kind, Industry: q.Industry, Status: q.Status, Q: q.Q, Purpose: q.Purpose}
}

// IDPath is a record id in the path.
type IDPath struct {
	ID string `path:"id" maxLength:"64"`
}

// CodePath is a record code in the path.
type CodePath struct {
	Code string `path:"code" maxLength:"18"`
}

// UpdateBody changes fields of a record.
type UpdateBody struct {
	Values map[string]string `json:"values" doc:"Field name to new value"`
	Note   string            `json:"note,omitempty" maxLength:"500"`
}

// Outcomes reports what happened to each field.
type Outcomes struct {
	Outcomes []FieldOutcome `json:"outcomes" nullable:"false"`
}

// Reference is the registry's reference data for forms.
type Reference struct {
	Tags            []TagInfo        `json:"tags" nullable:"false"`
	Industries      []Industry       `json:"industries" nullable:"false"`
	BuildingUses    []string         `json:"buildingUses" nullable:"false"`
	ComponentStates []string         `json:"componentStates" nullable:"false"`
	EntityKinds     []string         `json:"entityKinds" nullable:"false"`
	ImportColumns   map[string][]Col `json:"importColumns"`
}

// TagInfo describes a special-care tag.
type TagInfo struct {
	Tag        string `json:"tag"`
	NameZh     string `json:"nameZh"`
	SourceDept string `json:"sourceDept"`
}

// Col is one column of an import file.
type Col struct {
	Key      string `json:"key"`
	NameZh   string `json:"nameZh"`
	Required bool   `json:"required"`
}

func reference() Reference {
	r := Reference{Industries: Industries, BuildingUses: BuildingUses, ComponentStates: ComponentStates, EntityKinds: EntityKinds, ImportColumns: map[string][]Col{}}
	for _, t := range sortedKeys(TagSources) {
		r.Tags = append(r.Tags, TagInfo{Tag: t, NameZh: TagNames[t], SourceDept: TagSources[t]})
	}
	for k, cols := range ImportKinds() {
		for _, c := range cols {
			r.ImportColumns[k] = append(r.ImportColumns[k], Col{Key: c.Key, NameZh: c.Zh, Required: c.Required})
		}
	}
	return r
}

// Items is an unpaged list.
type Items[T any] struct {
	Items []T `json:"items" nullable:"false"`
}

func items[T any](v []T) Items[T] {
	if v == nil {
		v = []T{}
	}
	return Items[T]{v}
}

// Routes registers the module's API.
func (s *Service) Routes(api huma.API) {
	s.peopleRoutes(api)
	s.placeRoutes(api)
	s.componentRoutes(api)
	s.entityRoutes(api)
	s.changeRoutes(api)
	s.importRoutes(api)
	s.gridRoutes(api)
}

func (s *Service) peopleRoutes(api huma.API) {
	type listIn struct {
		PeopleQuery
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("list-people", http.MethodGet, v1+"/people", "List people of your region (masked unless a purpose allows)"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *listIn) (*httpx.Body[*httpx.Page[Person]], error) {
			list, total, err := s.ListPeople(ctx, in.filter(), in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type exportIn struct {
		PeopleQuery
		httpx.ExportQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("export-people", http.MethodGet, v1+"/people/export", "Export people (xlsx or csv), masked as in the list"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *exportIn) (*httpx.File, error) {
			list, _, err := s.ListPeople(ctx, in.filter(), httpx.MaxExportRows, 0)
			if err != nil {
				return nil, err
			}
			rows := make([][]string, len(list))
			for i, p := range list {
				var tags []string
				for _, t := range p.Tags {
					tags = append(tags, t.NameZh)
				}
				rows[i] = []string{p.IDNumber, p.Name, p.Sex, strconv.Itoa(p.BirthYear), yesNo(p.Registered), yesNo(p.Resident), p.HouseholdNumber, p.Relation, p.Address, p.Phone, strings.Join(tags, "、"), p.Status, p.GridCode}
			}
			return httpx.Export("people", in.Format, []string{"身份证号", "姓名", "性别", "出生年份", "户籍人口", "实有人口", "户号", "与户主关系", "地址", "联系电话", "标签", "状态", "网格编码"}, rows)
		})
	type lookupIn struct {
		IDNumber string `query:"idNumber" required:"true" minLength:"15" maxLength:"18" doc:"GB 11643 ID number"`
		PurposeQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("lookup-person", http.MethodGet, v1+"/people/lookup", "Find a person by ID number"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *lookupIn) (*httpx.Body[*Person], error) {
			p, err := s.LookupPerson(ctx, in.IDNumber, in.Purpose)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(p), nil
		})
	type getIn struct {
		IDPath
		PurposeQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("get-person", http.MethodGet, v1+"/people/{id}", "A person"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *getIn) (*httpx.Body[*Person], error) {
			p, err := s.GetPerson(ctx, in.ID, in.Purpose)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(p), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("create-person", http.MethodPost, v1+"/people", "Register a person"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *struct{ Body NewPerson }) (*httpx.Body[*Person], error) {
			p, err := s.CreatePerson(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(p), nil
		})
	type updIn struct {
		IDPath
		Body UpdateBody
	}
	httpx.Register(api, httpx.Op{Operation: op("update-person", http.MethodPatch, v1+"/people/{id}", "Change a person's fields (routed to the authority when you are not it)"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *updIn) (*httpx.Body[Outcomes], error) {
			out, err := s.Update(ctx, KindPerson, in.ID, in.Body.Values, in.Body.Note)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(Outcomes{out}), nil
		})
	type tagIn struct {
		IDPath
		Tag string `path:"tag" maxLength:"32"`
	}
	httpx.Register(api, httpx.Op{Operation: op("add-person-tag", http.MethodPut, v1+"/people/{id}/tags/{tag}", "Add a special-care tag (your department is its source)"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *tagIn) (*httpx.Body[*Person], error) {
			p, err := s.SetTag(ctx, in.ID, in.Tag, true)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(p), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("remove-person-tag", http.MethodDelete, v1+"/people/{id}/tags/{tag}", "Remove a special-care tag"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *tagIn) (*httpx.Body[*Person], error) {
			p, err := s.SetTag(ctx, in.ID, in.Tag, false)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(p), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("get-household", http.MethodGet, v1+"/households/{id}", "A household with its members"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *getIn) (*httpx.Body[*Household], error) {
			h, err := s.GetHousehold(ctx, in.ID, in.Purpose)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(h), nil
		})
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

func (s *Service) placeRoutes(api huma.API) {
	type listIn struct {
		BuildingQuery
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("list-buildings", http.MethodGet, v1+"/buildings", "List buildings of your region"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *listIn) (*httpx.Body[*httpx.Page[Building]], error) {
			list, total, err := s.ListBuildings(ctx, BuildingFilter(in.BuildingQuery.filter()), in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type exportIn struct {
		BuildingQuery
		httpx.ExportQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("export-buildings", http.MethodGet, v1+"/buildings/export", "Export buildings"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *exportIn) (*httpx.File, error) {
			list, _, err := s.ListBuildings(ctx, in.BuildingQuery.filter(), httpx.MaxExportRows, 0)
			if err != nil {
				return nil, err
			}
			rows := make([][]string, len(list))
			for i, b := range list {
				rows[i] = []string{b.Code, b.Name, b.Address, b.UseType, strconv.Itoa(b.Floors), b.GridCode, ff(b.Lon), ff(b.Lat), strconv.Itoa(b.Rooms)}
			}
			return httpx.Export("buildings", in.Format, []string{"建筑编码", "名称", "地址", "用途", "层数", "网格编码", "经度", "纬度", "房间数"}, rows)
		})
	httpx.Register(api, httpx.Op{Operation: op("get-building", http.MethodGet, v1+"/buildings/{code}", "A building"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *CodePath) (*httpx.Body[*Building], error) {
			b, err := s.GetBuilding(ctx, in.Code)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(b), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("create-building", http.MethodPost, v1+"/buildings", "Register a building"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *struct{ Body NewBuilding }) (*httpx.Body[*Building], error) {
			b, err := s.CreateBuilding(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(b), nil
		})
	type updIn struct {
		CodePath
		Body UpdateBody
	}
	httpx.Register(api, httpx.Op{Operation: op("update-building", http.MethodPatch, v1+"/buildings/{code}", "Change a building's fields"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *updIn) (*httpx.Body[Outcomes], error) {
			out, err := s.Update(ctx, KindBuilding, in.Code, in.Body.Values, in.Body.Note)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(Outcomes{out}), nil
		})
	type roomsOut = Items[Room]
	httpx.Register(api, httpx.Op{Operation: op("list-rooms", http.MethodGet, v1+"/buildings/{code}/rooms", "Rooms of a building"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *CodePath) (*httpx.Body[roomsOut], error) {
			r, err := s.Rooms(ctx, in.Code)
			if err != nil {
				return nil, err
			}
			return httpx.Reply((items(r))), nil
		})
	type roomIn struct {
		CodePath
		Body struct {
			Room string `json:"room" minLength:"1" maxLength:"32" doc:"Unit and room, e.g. 2单元301室"`
		}
	}
	httpx.Register(api, httpx.Op{Operation: op("add-room", http.MethodPost, v1+"/buildings/{code}/rooms", "Register a room"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *roomIn) (*httpx.Body[*Room], error) {
			r, err := s.AddRoom(ctx, in.Code, in.Body.Room)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
}

func (q BuildingQuery) filter() BuildingFilter {
	return BuildingFilter{Within: q.Within, UseType: q.UseType, Q: q.Q}
}

func ff(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

func (s *Service) componentRoutes(api huma.API) {
	type classesOut = Items[ComponentClass]
	httpx.Register(api, httpx.Op{Operation: op("list-component-classes", http.MethodGet, v1+"/component-classes", "Component classes (GB/T 30428.2 major and minor)"), Perm: ""},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[classesOut], error) {
			c, err := s.Classes(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply((items(c))), nil
		})
	type listIn struct {
		ComponentQuery
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("list-components", http.MethodGet, v1+"/components", "List components of your region"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *listIn) (*httpx.Body[*httpx.Page[Component]], error) {
			f, err := in.filter()
			if err != nil {
				return nil, err
			}
			list, total, err := s.ListComponents(ctx, f, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type exportIn struct {
		ComponentQuery
		httpx.ExportQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("export-components", http.MethodGet, v1+"/components/export", "Export components"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *exportIn) (*httpx.File, error) {
			f, err := in.filter()
			if err != nil {
				return nil, err
			}
			list, _, err := s.ListComponents(ctx, f, httpx.MaxExportRows, 0)
			if err != nil {
				return nil, err
			}
			rows := make([][]string, len(list))
			for i, c := range list {
				rows[i] = []string{c.Code, c.Major, c.Minor, c.MajorName, c.ClassName, c.Name, c.State, c.OwnerDept, c.Address, c.GridCode, ff(c.Lon), ff(c.Lat)}
			}
			return httpx.Export("components", in.Format, []string{"部件编码", "大类代码", "小类代码", "大类", "小类", "名称", "状态", "权属部门", "地址", "网格编码", "经度", "纬度"}, rows)
		})
	httpx.Register(api, httpx.Op{Operation: op("get-component", http.MethodGet, v1+"/components/{code}", "A component with its owner"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *CodePath) (*httpx.Body[*Component], error) {
			c, err := s.GetComponent(ctx, in.Code)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(c), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("create-component", http.MethodPost, v1+"/components", "Register a component (its code is assigned)"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *struct{ Body NewComponent }) (*httpx.Body[*Component], error) {
			c, err := s.CreateComponent(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(c), nil
		})
	type updIn struct {
		CodePath
		Body UpdateBody
	}
	httpx.Register(api, httpx.Op{Operation: op("update-component", http.MethodPatch, v1+"/components/{code}", "Change a component's fields"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *updIn) (*httpx.Body[Outcomes], error) {
			out, err := s.Update(ctx, KindComponent, in.Code, in.Body.Values, in.Body.Note)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(Outcomes{out}), nil
		})
}

func (s *Service) entityRoutes(api huma.API) {
	type listIn struct {
		EntityQuery
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("list-entities", http.MethodGet, v1+"/entities", "List enterprises and organisations of your region"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *listIn) (*httpx.Body[*httpx.Page[Entity]], error) {
			list, total, err := s.ListEntities(ctx, in.filter(), in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type exportIn struct {
		EntityQuery
		httpx.ExportQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("export-entities", http.MethodGet, v1+"/entities/export", "Export enterprises and organisations"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *exportIn) (*httpx.File, error) {
			list, _, err := s.ListEntities(ctx, in.filter(), httpx.MaxExportRows, 0)
			if err != nil {
				return nil, err
			}
			rows := make([][]string, len(list))
			for i, e := range list {
				rows[i] = []string{e.CreditCode, e.Name, e.TypeName, e.LegalRep, e.Industry + " " + e.IndustryName, e.Address, e.Status, e.Established, e.GridCode}
			}
			return httpx.Export("entities", in.Format, []string{"统一社会信用代码", "名称", "类型", "法定代表人", "行业", "地址", "状态", "成立日期", "网格编码"}, rows)
		})
	type getIn struct {
		CodePath
		PurposeQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("get-entity", http.MethodGet, v1+"/entities/{code}", "An enterprise or organisation by credit code"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *getIn) (*httpx.Body[*Entity], error) {
			e, err := s.GetEntity(ctx, in.Code, in.Purpose)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(e), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("create-entity", http.MethodPost, v1+"/entities", "Register an enterprise or organisation"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *struct{ Body NewEntity }) (*httpx.Body[*Entity], error) {
			e, err := s.CreateEntity(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(e), nil
		})
	type updIn struct {
		CodePath
		Body UpdateBody
	}
	httpx.Register(api, httpx.Op{Operation: op("update-entity", http.MethodPatch, v1+"/entities/{code}", "Change an organisation's fields"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *updIn) (*httpx.Body[Outcomes], error) {
			out, err := s.Update(ctx, KindEntity, strings.ToUpper(in.Code), in.Body.Values, in.Body.Note)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(Outcomes{out}), nil
		})
}

// ProposeBody proposes a correction of a record or a new record.
type ProposeBody struct {
	Kind     string            `json:"kind" enum:"person,building,component,entity"`
	RecordID string            `json:"recordId,omitempty" maxLength:"64" doc:"The record to correct (id for people, code otherwise); empty for a new record"`
	Values   map[string]string `json:"values,omitempty" doc:"Corrections: field to value"`
	Record   json.RawMessage   `json:"record,omitempty" doc:"A new record (the create input of its kind)"`
	Note     string            `json:"note,omitempty" maxLength:"500"`
}

// ProposeResult is a proposal's outcome.
type ProposeResult struct {
	Outcomes []FieldOutcome `json:"outcomes" nullable:"false"`
	Change   *Change        `json:"change,omitempty"`
}

func (s *Service) changeRoutes(api huma.API) {
	httpx.Register(api, httpx.Op{Operation: op("registry-reference", http.MethodGet, v1+"/registry/reference", "Reference data: tags, industries, uses, states, import columns"), Perm: ""},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[Reference], error) {
			return httpx.Reply(reference()), nil
		})
	type purposesOut = Items[Purpose]
	httpx.Register(api, httpx.Op{Operation: op("list-purposes", http.MethodGet, v1+"/registry/purposes", "Purposes you may state to see personal fields in clear"), Perm: authz.RegistryRead},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[purposesOut], error) {
			p, err := s.Purposes(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply((items(p))), nil
		})
	type searchOut = Items[SearchHit]
	type searchIn struct {
		Q     string `query:"q" required:"true" minLength:"1" maxLength:"64"`
		Limit int    `query:"limit" default:"20" minimum:"1" maximum:"100"`
	}
	httpx.Register(api, httpx.Op{Operation: op("registry-search", http.MethodGet, v1+"/registry/search", "Search divisions, grids, buildings, components and organisations"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *searchIn) (*httpx.Body[searchOut], error) {
			h, err := s.Search(ctx, in.Q, in.Limit)
			if err != nil {
				return nil, err
			}
			return httpx.Reply((items(h))), nil
		})
	type histIn struct {
		Kind string `query:"kind" required:"true" enum:"person,building,component,entity"`
		ID   string `query:"id" required:"true" maxLength:"64"`
		PurposeQuery
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("record-history", http.MethodGet, v1+"/registry/history", "Old values of a record, newest first"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *histIn) (*httpx.Body[*httpx.Page[HistoryEntry]], error) {
			h, total, err := s.History(ctx, in.Kind, in.ID, in.Purpose, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(h, total, in.PageQuery)), nil
		})
	type listIn struct {
		Status   string `query:"status" enum:"open,accepted,rejected,"`
		Kind     string `query:"kind" enum:"person,building,component,entity,"`
		RecordID string `query:"recordId" maxLength:"64"`
		ForMe    bool   `query:"forMe" doc:"Only changes your department decides"`
		Mine     bool   `query:"mine" doc:"Only changes you proposed"`
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("list-changes", http.MethodGet, v1+"/registry/changes", "Changes routed to authoritative departments (conflicts, corrections, additions)"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *listIn) (*httpx.Body[*httpx.Page[Change]], error) {
			list, total, err := s.ListChanges(ctx, ChangeFilter{Status: in.Status, Kind: in.Kind, RecordID: in.RecordID, ForMe: in.ForMe, Mine: in.Mine}, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("get-change", http.MethodGet, v1+"/registry/changes/{id}", "A routed change"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *IDPath) (*httpx.Body[*Change], error) {
			c, err := s.GetChange(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(c), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("propose-change", http.MethodPost, v1+"/registry/changes", "Propose a correction or a new record to the authoritative department"), Perm: authz.RegistryPropose},
		func(ctx context.Context, in *struct{ Body ProposeBody }) (*httpx.Body[ProposeResult], error) {
			b := in.Body
			switch {
			case b.RecordID != "" && len(b.Record) > 0:
				return nil, errs.Invalid("record", "exclusive", "give recordId with values to correct, or record for a new one, not both", "更正请填写 recordId 和 values，新增请填写 record，二者不能同时填写")
			case b.RecordID != "":
				out, err := s.Propose(ctx, b.Kind, b.RecordID, b.Values, b.Note)
				if err != nil {
					return nil, err
				}
				return httpx.Reply(ProposeResult{Outcomes: out}), nil
			case len(b.Record) > 0:
				c, err := s.ProposeNew(ctx, b.Kind, b.Record, b.Note)
				if err != nil {
					return nil, err
				}
				return httpx.Reply(ProposeResult{Outcomes: []FieldOutcome{}, Change: c}), nil
			}
			return nil, errs.Invalid("recordId", "required", "give recordId with values, or a new record", "请填写 recordId 和 values，或新增的 record")
		})
	type decideIn struct {
		IDPath
		Body struct {
			Accept bool   `json:"accept"`
			Note   string `json:"note,omitempty" maxLength:"500"`
		}
	}
	httpx.Register(api, httpx.Op{Operation: op("decide-change", http.MethodPost, v1+"/registry/changes/{id}/decision", "Accept or reject a routed change (authoritative department)"), Perm: authz.RegistryWrite},
		func(ctx context.Context, in *decideIn) (*httpx.Body[*Change], error) {
			c, err := s.Decide(ctx, in.ID, in.Body.Accept, in.Body.Note)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(c), nil
		})
}

func (s *Service) importRoutes(api huma.API) {
	type startIn struct {
		Kind     string `query:"kind" required:"true" enum:"people,entities,components,buildings"`
		Mode     string `query:"mode" default:"dry-run" enum:"dry-run,all-or-nothing,good-rows" doc:"dry-run checks only; all-or-nothing writes only a clean file; good-rows writes the good rows"`
		Filename string `query:"filename" maxLength:"200"`
		RawBody  []byte `contentType:"application/octet-stream" doc:"The CSV (UTF-8) or .xlsx file"`
	}
	o := op("start-import", http.MethodPost, v1+"/registry/imports", "Import a CSV or Excel file (checked in full; written whole or not at all)")
	o.MaxBodyBytes = MaxImportBytes
	o.DefaultStatus = http.StatusAccepted
	httpx.Register(api, httpx.Op{Operation: o, Perm: authz.RegistryImport},
		func(ctx context.Context, in *startIn) (*httpx.Body[*ImportJob], error) {
			j, err := s.StartImport(ctx, in.Kind, in.Filename, in.Mode, in.RawBody)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(j), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("list-imports", http.MethodGet, v1+"/registry/imports", "Your imports"), Perm: authz.RegistryImport},
		func(ctx context.Context, in *httpx.PageQuery) (*httpx.Body[*httpx.Page[ImportJob]], error) {
			list, total, err := s.ListImports(ctx, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, *in)), nil
		})
	type tplIn struct {
		Kind string `query:"kind" required:"true" enum:"people,entities,components,buildings"`
		httpx.ExportQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("import-template", http.MethodGet, v1+"/registry/imports/template", "An empty import file with the right columns"), Perm: authz.RegistryImport},
		func(ctx context.Context, in *tplIn) (*httpx.File, error) {
			var header []string
			for _, c := range importKinds[in.Kind].columns {
				header = append(header, c.Zh)
			}
			return httpx.Export("import-"+in.Kind, in.Format, header, nil)
		})
	httpx.Register(api, httpx.Op{Operation: op("get-import", http.MethodGet, v1+"/registry/imports/{id}", "An import's progress and bad rows"), Perm: authz.RegistryImport},
		func(ctx context.Context, in *IDPath) (*httpx.Body[*ImportJob], error) {
			j, err := s.GetImport(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(j), nil
		})
	type errsIn struct {
		IDPath
		httpx.ExportQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("export-import-errors", http.MethodGet, v1+"/registry/imports/{id}/errors", "The bad rows of an import as a file"), Perm: authz.RegistryImport},
		func(ctx context.Context, in *errsIn) (*httpx.File, error) {
			j, err := s.GetImport(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			rows := make([][]string, len(j.Errors))
			for i, e := range j.Errors {
				rows[i] = []string{strconv.Itoa(e.Row), e.Field, e.Rule, e.MessageZh, e.Message}
			}
			return httpx.Export(fmt.Sprintf("import-errors-%s", j.Kind), in.Format, []string{"行号", "字段", "规则", "说明", "Message"}, rows)
		})
	httpx.Register(api, httpx.Op{Operation: op("cancel-import", http.MethodDelete, v1+"/registry/imports/{id}", "Cancel a running import (nothing of it is written)"), Perm: authz.RegistryImport},
		func(ctx context.Context, in *IDPath) (*httpx.Body[*ImportJob], error) {
			j, err := s.CancelImport(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(j), nil
		})
}

func (s *Service) gridRoutes(api huma.API) {
	type listIn struct {
		WithinQuery
		UserID string `query:"userId" maxLength:"64"`
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("list-grid-workers", http.MethodGet, v1+"/grid-workers", "Grid workers' assignments in your region"), Perm: authz.RegistryRead},
		func(ctx context.Context, in *listIn) (*httpx.Body[*httpx.Page[Assignment]], error) {
			list, total, err := s.ListAssignments(ctx, in.Within, in.UserID, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type assignIn struct {
		Body struct {
			GridCode string `json:"gridCode" minLength:"15" maxLength:"15"`
			UserID   string `json:"userId" minLength:"1" maxLength:"64"`
		}
	}
	httpx.Register(api, httpx.Op{Operation: op("assign-grid-worker", http.MethodPost, v1+"/grid-workers", "Assign a grid worker to a grid"), Perm: authz.GridsAssign},
		func(ctx context.Context, in *assignIn) (*httpx.Body[*Assignment], error) {
			a, err := s.Assign(ctx, in.Body.GridCode, in.Body.UserID)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(a), nil
		})
	type unassignIn struct {
		GridCode string `path:"gridCode" maxLength:"15"`
		UserID   string `path:"userId" maxLength:"64"`
	}
	httpx.Register(api, httpx.Op{Operation: op("unassign-grid-worker", http.MethodDelete, v1+"/grid-workers/{gridCode}/{userId}", "Remove a grid worker from a grid"), Perm: authz.GridsAssign},
		func(ctx context.Context, in *unassignIn) (*httpx.Empty, error) {
			return &httpx.Empty{}, s.Unassign(ctx, in.GridCode, in.UserID)
		})
	type gridsOut = Items[GridSummary]
	httpx.Register(api, httpx.Op{Operation: op("my-grids", http.MethodGet, v1+"/me/grids", "The grids you are assigned to, with counts"), Perm: authz.RegistryRead},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[gridsOut], error) {
			g, err := s.MyGrids(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply((items(g))), nil
		})
}
