// Package demo builds the demo district: the real streets and communities
// of 苏州市姑苏区 with synthetic geography, its departments, street offices
// and community committees, and a demo user for every role. Everything is
// created through the modules' services (and so audited), deterministically
// from a seed.
package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/cases"
	"github.com/shuzhi-gov/shuzhi/internal/demo/district"
	"github.com/shuzhi-gov/shuzhi/internal/exchange"
	"github.com/shuzhi-gov/shuzhi/internal/geo"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/registry"
)

// Password is the password of every demo user. It is printed at start and
// written in the README: the demo is for trying the platform, not for data.
const Password = "Shuzhi@2026"

// Account is one demo login.
type Account struct {
	Username string
	Role     authz.Role
	Name     string
	Where    string
}

// Result summarises a seeding run.
type Result struct {
	Seeded      bool // false when the district was already there
	Divisions   int
	Grids       int
	RespGrids   int
	Orgs        int
	Users       int
	People      int
	Buildings   int
	Entities    int
	Components  int
	Cases       int // historical cases (一网统管)
	Resources   int // catalog entries (共享交换)
	CasesTook   time.Duration
	Accounts    []Account
	Took        time.Duration
	DistrictSrc string
}

// Services are what the seeder writes through.
type Services struct {
	DB       *db.DB
	Identity *identity.Service
	Geo      *geo.Service
	Registry *registry.Service
	// Cases, when set, gets three months of case history.
	Cases *cases.Service
	// Exchange, when set, gets the departments' catalog and one governed share.
	Exchange *exchange.Service
	// HashPassword hashes the demo password once for all users.
	HashPassword func(string) (string, error)
}

// Seed builds the demo district unless it is already present.
func Seed(ctx context.Context, s Services, seed int64, size int) (*Result, error) {
	start := time.Now()
	d, err := district.Build(seed, size)
	if err != nil {
		return nil, err
	}
	ctx = authz.With(ctx, identity.System("demo-seeder"))
	res := &Result{DistrictSrc: district.Source, Accounts: accounts()}
	county := d.County()
	if _, err := s.Identity.GetDivision(ctx, county.Code); err == nil {
		return res, nil
	} else if errs.CodeOf(err) != errs.CodeNotFound {
		return nil, err
	}
	hash, err := s.HashPassword(Password)
	if err != nil {
		return nil, err
	}
	var b registry.Batch
	err = s.DB.InTx(ctx, func(ctx context.Context) error {
		for _, dv := range d.Divisions {
			nd := identity.NewDivision{Code: dv.Code, Name: dv.Name, ParentCode: dv.Parent}
			lon, lat := dv.Centroid[0], dv.Centroid[1]
			nd.Lon, nd.Lat = &lon, &lat
			if dv.Ring != nil {
				nd.Boundary = geo.Polygon(dv.Ring)
			}
			if _, err := s.Identity.CreateDivision(ctx, nd); err != nil {
				return fmt.Errorf("division %s %s: %w", dv.Code, dv.Name, err)
			}
			res.Divisions++
		}
		now := time.Now().UnixMilli()
		for _, g := range d.Grids {
			gg := geo.Grid{Code: g.Code, Name: g.Name, CommunityCode: g.Community, Lon: g.Centroid[0], Lat: g.Centroid[1], Boundary: []byte(geo.Polygon(g.Ring))}
			if err := s.Geo.PutGrid(ctx, gg, g.Code, now); err != nil {
				return fmt.Errorf("grid %s: %w", g.Code, err)
			}
			res.Grids++
		}
		// Responsibility grids (责任网格): each community's unit grids in
		// runs of three, west to east and north to south.
		for _, c := range d.Communities() {
			gs := d.GridsOf(c.Code)
			for i := 0; i*3 < len(gs); i++ {
				var codes []string
				for _, g := range gs[i*3 : min(len(gs), i*3+3)] {
					codes = append(codes, g.Code)
				}
				code := fmt.Sprintf("%s9%02d", c.Code, i+1)
				if err := s.Geo.PutResponsibilityGrid(ctx, code, fmt.Sprintf("%s第%d责任网格", c.Name, i+1), codes, now); err != nil {
					return fmt.Errorf("responsibility grid %s: %w", code, err)
				}
				res.RespGrids++
			}
		}
		if err := seedPeople(ctx, s, d, seed, hash, res); err != nil {
			return err
		}
		b = baseData(d, seed, size, start)
		first := d.Children(streetPingjiang)[0].Code
		for _, bd := range b.Buildings {
			if strings.HasPrefix(bd.GridCode, first) {
				addr := bd.Road + bd.HouseNo + "号"
				b.Rooms[addr] = append(b.Rooms[addr], "9单元901室")
				addNamed(&b, bd.GridCode, addr+"9单元901室")
				break
			}
		}
		if err := s.Registry.Load(ctx, b); err != nil {
			return fmt.Errorf("base data: %w", err)
		}
		res.People, res.Buildings, res.Entities, res.Components = len(b.People), len(b.Buildings), len(b.Entities), len(b.Components)
		return assignGridWorkers(ctx, s, d)
	})
	if err != nil {
		return nil, err
	}
	if s.Cases != nil {
		// After the commit: placing the cases needs the grids in the geo
		// index and the units in the directory.
		cs := time.Now()
		if res.Cases, err = seedCases(ctx, s, d, seed, size); err != nil {
			return nil, fmt.Errorf("cases: %w", err)
		}
		res.CasesTook = time.Since(cs)
	}
	if s.Exchange != nil {
		if res.Resources, err = seedExchange(ctx, s, b.People); err != nil {
			return nil, fmt.Errorf("exchange: %w", err)
		}
	}
	res.Seeded, res.Took = true, time.Since(start)
	return res, nil
}

// CasesFor is how many historical cases a district of size people gets:
// 1,500 for the default 100,000, at least 40.
func CasesFor(size int) int { return min(1500, max(40, size/66)) }

// seedCases writes the case history across the district's unit grids,
// reported by each community's grid worker, the public, cameras and
// sensors, dispatched by the operations centre.
func seedCases(ctx context.Context, s Services, d *district.District, seed int64, size int) (int, error) {
	user := func(username string) (cases.DemoPerson, error) {
		var p cases.DemoPerson
		var org *string
		err := s.DB.QueryRow(ctx, `SELECT id, display_name, org_id FROM users WHERE username = ?`, username).Scan(&p.ID, &p.Name, &org)
		if org != nil {
			p.OrgID = *org
		}
		return p, err
	}
	people := cases.DemoPeople{GridWorkers: map[string]cases.DemoPerson{}, Handlers: map[string]cases.DemoPerson{}}
	for _, c := range d.Communities() {
		gw, err := user(fmt.Sprintf("gw%s", c.Short[6:]))
		if err != nil {
			return 0, err
		}
		people.GridWorkers[c.Code] = gw
	}
	named := map[string]cases.DemoPerson{}
	for _, u := range []string{"gridworker", "supervisor", "hotline", "citizen", "handler"} {
		p, err := user(u)
		if err != nil {
			return 0, err
		}
		named[u] = p
	}
	people.GridWorkers[d.Children(streetPingjiang)[0].Code] = named["gridworker"]
	people.Operators = []cases.DemoPerson{named["supervisor"], named["hotline"]}
	people.Citizens = []cases.DemoPerson{named["citizen"]}
	people.Handlers[named["handler"].OrgID] = named["handler"]
	points := make([][2]float64, len(d.Grids))
	for i, g := range d.Grids {
		points[i] = [2]float64{g.Centroid[0], g.Centroid[1]}
	}
	return s.Cases.SeedDemo(ctx, seed, CasesFor(size), points, people)
}

// Named demo streets (real codes of 姑苏区).
const (
	streetPingjiang = "320508018000" // 平江街道
	streetJinchang  = "320508019000" // 金阊街道
)

func accounts() []Account {
	return []Account{
		{"citizen", authz.Citizen, "市民 王小明", "平江街道"},
		{"enterprise", authz.Enterprise, "企业用户 李华", "苏州平江示范科技有限公司"},
		{"gridworker", authz.GridWorker, "网格员 张伟", "平江街道第一个社区"},
		{"staff", authz.DeptStaff, "部门工作人员 刘洋", "平江街道办事处"},
		{"staff2", authz.DeptStaff, "部门工作人员 陈静", "金阊街道办事处"},
		{"police", authz.DeptStaff, "民警 韩磊", "平江街道派出所（人口信息的权威来源）"},
		{"gahead", authz.DeptHead, "公安局负责人 冯刚", "姑苏区公安局（审批人口数据共享）"},
		{"mzstaff", authz.DeptStaff, "民政专干 郑丽", "姑苏区民政局（低保核对）"},
		{"head", authz.DeptHead, "部门负责人 杨军", "姑苏区城市管理局"},
		{"handler", authz.DeptStaff, "城管队员 孙立", "姑苏区城市管理局（案件承办）"},
		{"hotline", authz.Supervisor, "12345 热线受理员 钱芳", "姑苏区城市运行管理中心"},
		{"supervisor", authz.Supervisor, "城运中心监督员 赵敏", "姑苏区城市运行管理中心"},
		{"leader", authz.Leader, "领导 周建国", "姑苏区人民政府"},
		{"auditor", authz.Auditor, "安全审计员 吴芳", "姑苏区数据局"},
		{"sysadmin", authz.SysAdmin, "系统管理员 孙强", "姑苏区数据局"},
		{"secadmin", authz.SecAdmin, "安全管理员 马丽", "姑苏区数据局"},
	}
}

func seedPeople(ctx context.Context, s Services, d *district.District, seed int64, hash string, res *Result) error {
	county := d.County()
	prefix := county.Name // 姑苏区
	mkOrg := func(in identity.OrgInput) (*identity.Org, error) {
		o, err := s.Identity.CreateOrg(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("org %s: %w", in.Name, err)
		}
		res.Orgs++
		return o, nil
	}
	gov, err := mkOrg(identity.OrgInput{Name: prefix + "人民政府", Kind: identity.KindDepartment, DeptType: "gov", DivisionCode: county.Code})
	if err != nil {
		return err
	}
	depts := map[string]*identity.Org{}
	for _, dep := range district.Departments {
		o, err := mkOrg(identity.OrgInput{Name: prefix + dep.NameZh, Kind: identity.KindDepartment, DeptType: dep.Code, ParentID: gov.ID, DivisionCode: county.Code})
		if err != nil {
			return err
		}
		depts[dep.Code] = o
	}
	streetOffice := map[string]*identity.Org{}
	police := map[string]*identity.Org{}
	committees := map[string]*identity.Org{}
	for _, st := range d.Streets() {
		o, err := mkOrg(identity.OrgInput{Name: st.Name + "办事处", Kind: identity.KindCommittee, DeptType: "jd", ParentID: gov.ID, DivisionCode: st.Code})
		if err != nil {
			return err
		}
		streetOffice[st.Code] = o
		po, err := mkOrg(identity.OrgInput{Name: prefix + "公安分局" + st.Name + "派出所", Kind: identity.KindUnit, DeptType: "ga", ParentID: depts["ga"].ID, DivisionCode: st.Code})
		if err != nil {
			return err
		}
		police[st.Code] = po
		for _, c := range d.Children(st.Code) {
			co, err := mkOrg(identity.OrgInput{Name: c.OfficialName, Kind: identity.KindCommittee, DeptType: "sq", ParentID: o.ID, DivisionCode: c.Code})
			if err != nil {
				return err
			}
			committees[c.Code] = co
		}
	}
	firstCommunity := d.Children(streetPingjiang)[0]
	ent, err := mkOrg(identity.OrgInput{Name: "苏州平江示范科技有限公司", Kind: identity.KindEnterprise, DivisionCode: firstCommunity.Code})
	if err != nil {
		return err
	}
	mkUser := func(username, name, orgID, division string, role authz.Role) error {
		_, err := s.Identity.CreateUserWithRoles(ctx, identity.NewUser{Username: username, DisplayName: name, OrgID: orgID, DivisionCode: division, PasswordHash: hash}, []authz.Role{role})
		if err != nil {
			return fmt.Errorf("user %s: %w", username, err)
		}
		res.Users++
		return nil
	}
	named := []struct {
		user, name string
		org        *identity.Org
		division   string
		role       authz.Role
	}{
		{"citizen", "王小明", nil, firstCommunity.Code, authz.Citizen},
		{"enterprise", "李华", ent, "", authz.Enterprise},
		{"gridworker", "张伟", committees[firstCommunity.Code], "", authz.GridWorker},
		{"staff", "刘洋", streetOffice[streetPingjiang], "", authz.DeptStaff},
		{"staff2", "陈静", streetOffice[streetJinchang], "", authz.DeptStaff},
		{"police", "韩磊", police[streetPingjiang], "", authz.DeptStaff},
		{"gahead", "冯刚", depts["ga"], "", authz.DeptHead},
		{"mzstaff", "郑丽", depts["mz"], "", authz.DeptStaff},
		{"head", "杨军", depts["cg"], "", authz.DeptHead},
		{"handler", "孙立", depts["cg"], "", authz.DeptStaff},
		{"hotline", "钱芳", depts["cyzx"], "", authz.Supervisor},
		{"supervisor", "赵敏", depts["cyzx"], "", authz.Supervisor},
		{"leader", "周建国", gov, "", authz.Leader},
		{"auditor", "吴芳", depts["sj"], "", authz.Auditor},
		{"sysadmin", "孙强", depts["sj"], "", authz.SysAdmin},
		{"secadmin", "马丽", depts["sj"], "", authz.SecAdmin},
	}
	for _, n := range named {
		orgID := ""
		if n.org != nil {
			orgID = n.org.ID
		}
		if err := mkUser(n.user, n.name, orgID, n.division, n.role); err != nil {
			return err
		}
	}
	// A grid worker for every community and a staff member for every street
	// office, with plausible names.
	comms := d.Communities()
	streets := d.Streets()
	names := district.Names(seed, len(comms)+len(streets))
	for i, c := range comms {
		if err := mkUser(fmt.Sprintf("gw%s", c.Short[6:]), names[i], committees[c.Code].ID, "", authz.GridWorker); err != nil {
			return err
		}
	}
	for i, st := range streets {
		if err := mkUser(fmt.Sprintf("jd%s", st.Short[6:]), names[len(comms)+i], streetOffice[st.Code].ID, "", authz.DeptStaff); err != nil {
			return err
		}
	}
	return nil
}

// assignGridWorkers puts every community's grid worker in charge of its
// grids, and the named demo grid worker (张伟) in charge of the grids of the
// first community of 平江街道.
func assignGridWorkers(ctx context.Context, s Services, d *district.District) error {
	assign := func(username, community string) error {
		var id string
		if err := s.DB.QueryRow(ctx, `SELECT id FROM users WHERE username = ?`, username).Scan(&id); err != nil {
			return fmt.Errorf("grid worker %s: %w", username, err)
		}
		for _, g := range d.GridsOf(community) {
			if _, err := s.Registry.Assign(ctx, g.Code, id); err != nil {
				return fmt.Errorf("assign %s to %s: %w", username, g.Code, err)
			}
		}
		return nil
	}
	for _, c := range d.Communities() {
		if err := assign(fmt.Sprintf("gw%s", c.Short[6:]), c.Code); err != nil {
			return err
		}
	}
	return assign("gridworker", d.Children(streetPingjiang)[0].Code)
}
