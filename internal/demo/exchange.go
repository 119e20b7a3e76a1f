package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/exchange"
	"github.com/shuzhi-gov/shuzhi/internal/exchange/quality"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
	"github.com/shuzhi-gov/shuzhi/internal/registry"
)

// The named citizen (王小明) and enterprise of the demo accounts are real
// records of the registry, so that the data tracker has someone to show.
const (
	CitizenIDNumber = "320508198806152310"
	CitizenName     = "王小明"
	EnterpriseName  = "苏州平江示范科技有限公司"
)

// EnterpriseCreditCode is the demo enterprise's unified social credit code.
var EnterpriseCreditCode = func() string {
	c, err := idcode.MakeCreditCode('9', '1', "320508", "MA1PJ7F0")
	if err != nil {
		panic(err)
	}
	return c
}()

// NamedPeople is how many people addNamed adds to the generated
// population (--demo-size): the named citizen.
const NamedPeople = 1

// addNamed adds the named citizen and enterprise to the base data, in the
// first community's first grid.
func addNamed(b *registry.Batch, grid, address string) {
	b.People = append(b.People, registry.NewPerson{IDNumber: CitizenIDNumber, Name: CitizenName, Registered: true, Resident: true,
		HouseholdNumber: "32050800999999", Relation: "户主", Address: address + "3-201", GridCode: grid, Phone: "13812345678"})
	b.Entities = append(b.Entities, registry.NewEntity{CreditCode: EnterpriseCreditCode, Name: EnterpriseName, LegalRep: "李华", Industry: "I",
		Address: address, Status: "active", Established: "2019-03-18", GridCode: grid})
}

func personItem(name, zh, typ, mask string, key bool) exchange.Item {
	it := exchange.Item{Name: name, NameZh: zh, Type: typ, Key: key, Required: key, Personal: "personal", Mask: mask}
	if typ == "idnumber" {
		it.Personal = "sensitive"
	}
	return it
}

func plainItem(name, zh, typ string, required bool) exchange.Item {
	return exchange.Item{Name: name, NameZh: zh, Type: typ, Required: required}
}

// seedExchange catalogues the departments' resources (the registry's
// people, enterprises and buildings by their authoritative departments,
// and hosted data of 民政 and 卫健), and plays one governed share: 民政 asks
// 公安 for household data for a subsidy review, 公安 approves two fields,
// 民政 queries three people — 王小明 among them, who is linked to his ID
// number and sees the accesses in his data tracker.
func seedExchange(ctx context.Context, s Services, people []registry.NewPerson) (int, error) {
	org := func(dept string) (string, error) {
		var id string
		err := s.DB.QueryRow(ctx, `SELECT id FROM orgs WHERE dept_type = ? AND kind = 'department'`, dept).Scan(&id)
		return id, err
	}
	as := func(orgID string) context.Context {
		return authz.With(ctx, &authz.Principal{Kind: authz.KindSystem, ID: "demo-seeder", Name: "demo-seeder", OrgID: orgID, Nationwide: true,
			Permissions: []authz.Permission{authz.ExchangeRead, authz.ExchangePublish, authz.ExchangeRequest, authz.ExchangeQuery, authz.ExchangeDecide}})
	}
	orgs := map[string]string{}
	for _, d := range []string{"ga", "mz", "scjg", "zj", "wj", "rs", "cg"} {
		id, err := org(d)
		if err != nil {
			return 0, fmt.Errorf("organisation %s: %w", d, err)
		}
		orgs[d] = id
	}
	ex := s.Exchange
	resources := []struct {
		dept string
		in   exchange.NewResource
		rows []map[string]any
	}{
		{"ga", exchange.NewResource{Code: "GA-HJRK-001", Name: "户籍人口信息", Class: "base", Category: "人口/户籍/户籍人口",
			Summary: "本区常住及户籍人口的身份、户籍与居住信息，由公安机关依法登记，一数一源。", Format: "api", Sharing: exchange.Conditional,
			Conditions: "限于履行法定职责所必需，须说明用途与法律依据；身份证号、联系电话原则上脱敏提供", LegalBasis: "《中华人民共和国户口登记条例》；《个人信息保护法》第三十四条",
			Method: "api", Opening: "closed", UpdateCycle: "realtime", ReleaseDate: "2025-01-01", Grading: "important", Backend: exchange.Registry, BackendRef: "people",
			Items: []exchange.Item{personItem("idNumber", "公民身份号码", "idnumber", "id", true), personItem("name", "姓名", "string", "name", false),
				plainItem("sex", "性别", "string", true), plainItem("birthYear", "出生年份", "int", true), plainItem("hukouDivision", "户籍地区划", "division", false),
				plainItem("householdNumber", "户号", "string", false), plainItem("relation", "与户主关系", "string", false),
				personItem("address", "住址", "string", "address", false), personItem("phone", "联系电话", "phone", "phone", false),
				plainItem("status", "人口状态", "string", true)}}, nil},
		{"scjg", exchange.NewResource{Code: "SCJG-QYDJ-001", Name: "企业登记信息", Class: "base", Category: "法人/市场主体/登记信息",
			Summary: "市场主体的统一社会信用代码、名称、法定代表人、行业、住所与登记状态。", Format: "api", Sharing: exchange.Unconditional,
			Method: "api,bulk", Opening: "open", UpdateCycle: "daily", ReleaseDate: "2025-01-01", Grading: "general", Backend: exchange.Registry, BackendRef: "entities",
			Items: []exchange.Item{{Name: "creditCode", NameZh: "统一社会信用代码", Type: "creditcode", Key: true, Required: true}, plainItem("name", "名称", "string", true),
				plainItem("kind", "主体类型", "string", false), personItem("legalRep", "法定代表人", "string", "name", false), plainItem("industry", "行业", "string", false),
				plainItem("address", "住所", "string", false), plainItem("status", "登记状态", "string", true), plainItem("established", "成立日期", "date", false)}}, nil},
		{"zj", exchange.NewResource{Code: "ZJ-FWJZ-001", Name: "房屋建筑信息", Class: "base", Category: "空间地理/房屋/建筑物",
			Summary: "建筑物编码、名称、地址、用途与层数。", Format: "api", Sharing: exchange.Unconditional, Method: "api,bulk", Opening: "conditional",
			UpdateCycle: "monthly", ReleaseDate: "2025-01-01", Grading: "general", Backend: exchange.Registry, BackendRef: "buildings",
			Items: []exchange.Item{{Name: "code", NameZh: "建筑物编码", Type: "string", Key: true, Required: true}, plainItem("name", "名称", "string", false),
				plainItem("address", "地址", "string", true), plainItem("useType", "用途", "string", true), plainItem("floors", "层数", "int", false)}}, nil},
		{"cg", exchange.NewResource{Code: "CG-CSBJ-001", Name: "城市部件信息", Class: "base", Category: "城市管理/部件/部件普查",
			Summary: "GB/T 30428.2 城市部件的编码、类别、名称、状态、权属部门与位置。", Format: "api", Sharing: exchange.Unconditional, Method: "api,bulk",
			Opening: "open", UpdateCycle: "weekly", ReleaseDate: "2025-01-01", Grading: "general", Backend: exchange.Registry, BackendRef: "components",
			Items: []exchange.Item{{Name: "code", NameZh: "部件编码", Type: "string", Key: true, Required: true}, plainItem("className", "部件类别", "string", true),
				plainItem("name", "名称", "string", false), plainItem("state", "状态", "string", true), plainItem("ownerDept", "权属部门", "string", true),
				plainItem("address", "位置描述", "string", false), plainItem("lon", "经度", "number", true), plainItem("lat", "纬度", "number", true)}}, nil},
		{"mz", exchange.NewResource{Code: "MZ-DBDX-001", Name: "最低生活保障对象信息", Class: "department", Category: "民生/社会救助/低保",
			Summary: "在册低保对象、保障标准与发放状态。", Format: "table", Sharing: exchange.Conditional, Conditions: "限于社会救助、慈善帮扶等法定用途",
			LegalBasis: "《社会救助暂行办法》", Method: "api,subscription", Opening: "closed", UpdateCycle: "monthly", ReleaseDate: "2025-03-01", Grading: "important",
			Backend: exchange.Hosted,
			Items: []exchange.Item{personItem("idNumber", "公民身份号码", "idnumber", "id", true), personItem("name", "姓名", "string", "name", false),
				plainItem("level", "保障类别", "string", true), plainItem("amount", "月保障金额（元）", "number", true), plainItem("since", "纳入日期", "date", true),
				plainItem("status", "状态", "string", true)}}, nil},
		{"ga", exchange.NewResource{Code: "GA-ZDRY-001", Name: "重点人员管控信息", Class: "department", Category: "公共安全/治安管理",
			Summary: "涉及国家安全和刑事侦查的管控信息。", Format: "table", Sharing: exchange.NotShared,
			LegalBasis: "《中华人民共和国人民警察法》第六条；《公安机关办理刑事案件程序规定》：涉及侦查秘密，不予共享", Method: "api", Opening: "closed",
			UpdateCycle: "irregular", ReleaseDate: "2025-01-01", Grading: "core", Backend: exchange.Hosted,
			Items: []exchange.Item{personItem("idNumber", "公民身份号码", "idnumber", "id", true), plainItem("category", "类别", "string", true)}}, nil},
	}
	// The 民政 resource's records: the registry's people tagged low-income,
	// with one wrong date for the quality board to find.
	var dibao []map[string]any
	for _, p := range people {
		for _, t := range p.Tags {
			if t == "low-income" && len(dibao) < 40 {
				since := "2024-0" + fmt.Sprint(1+len(dibao)%9) + "-01"
				if len(dibao) == 7 {
					since = "2024-13-01"
				}
				name := p.Name
				if len(dibao) == 2 {
					name = "王某某" // disagrees with the population register: the consistency rule finds it
				}
				dibao = append(dibao, map[string]any{"idNumber": p.IDNumber, "name": name, "level": "城市低保", "amount": 1035, "since": since, "status": "在保"})
			}
		}
	}
	for i := range resources {
		if resources[i].in.Code == "MZ-DBDX-001" {
			resources[i].rows = dibao
			// 一数一源: the names must agree with the population register.
			resources[i].in.Rules = append(quality.DefaultRules(exchange.QualityItems(resources[i].in.Items)),
				quality.Rule{ID: "consistency:name", Kind: quality.Consistency, Item: "name", Param: "GA-HJRK-001.name"})
		}
	}
	n := 0
	for _, r := range resources {
		r.in.ProviderOrg = orgs[r.dept]
		ctx := as(orgs[r.dept])
		res, err := ex.CreateResource(ctx, r.in)
		if err != nil {
			return n, fmt.Errorf("resource %s: %w", r.in.Code, err)
		}
		if len(r.rows) > 0 {
			if _, err := ex.Load(ctx, res.ID, exchange.LoadInput{Records: r.rows}); err != nil {
				return n, fmt.Errorf("resource %s records: %w", r.in.Code, err)
			}
		}
		if _, err := ex.SetStatus(ctx, res.ID, exchange.Published); err != nil {
			return n, fmt.Errorf("publish %s: %w", r.in.Code, err)
		}
		n++
	}
	// One governed share, decided and used.
	mz := as(orgs["mz"])
	req, err := ex.RequestAccess(mz, exchange.NewRequest{Resource: "GA-HJRK-001", Fields: []string{"name", "householdNumber", "address"},
		Purpose: "最低生活保障家庭经济状况核对", Basis: "《社会救助暂行办法》第十一条", DailyQuota: 500, RateLimit: 20,
		ExpiresAt: time.Now().AddDate(1, 0, 0).Format(time.DateOnly)})
	if err != nil {
		return n, fmt.Errorf("demo request: %w", err)
	}
	req, err = ex.Decide(as(orgs["ga"]), req.ID, exchange.Decision{Approve: true, Fields: []string{"name", "householdNumber"}, Reason: "同意提供姓名与户号，住址不在核对所需范围内"})
	if err != nil {
		return n, fmt.Errorf("demo decision: %w", err)
	}
	keys := []string{CitizenIDNumber}
	for _, p := range people[:2] {
		keys = append(keys, p.IDNumber)
	}
	for _, k := range keys {
		if _, err := ex.Query(mz, exchange.Query{Grant: req.GrantID, Key: k}); err != nil {
			return n, fmt.Errorf("demo query: %w", err)
		}
	}
	// 企业登记信息 is unconditional: 人社 gets it at once.
	rs := as(orgs["rs"])
	if ent, err := ex.RequestAccess(rs, exchange.NewRequest{Resource: "SCJG-QYDJ-001", Fields: []string{"name", "status", "industry"},
		Purpose: "社会保险登记核验", Basis: "《社会保险法》第五十七条"}); err == nil {
		_, _ = ex.Query(rs, exchange.Query{Grant: ent.GrantID, Key: EnterpriseCreditCode})
	} else {
		return n, fmt.Errorf("demo unconditional request: %w", err)
	}
	// 王小明 and the enterprise user are linked (实名) to their records.
	for _, l := range []struct {
		user string
		role authz.Role
		in   exchange.LinkInput
	}{
		{"citizen", authz.Citizen, exchange.LinkInput{IDNumber: CitizenIDNumber, Name: CitizenName}},
		{"enterprise", authz.Enterprise, exchange.LinkInput{CreditCode: EnterpriseCreditCode, Name: EnterpriseName}},
	} {
		var id string
		if err := s.DB.QueryRow(ctx, `SELECT id FROM users WHERE username = ?`, l.user).Scan(&id); err != nil {
			return n, err
		}
		uctx := authz.With(ctx, &authz.Principal{Kind: authz.KindUser, ID: id, Name: l.user, Roles: []authz.Role{l.role}, Permissions: authz.PermissionsOf([]authz.Role{l.role})})
		if _, err := ex.LinkSubject(uctx, l.in); err != nil {
			return n, fmt.Errorf("link %s: %w", l.user, err)
		}
	}
	return n, nil
}
