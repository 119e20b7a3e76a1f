package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/demo/district"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
	"github.com/shuzhi-gov/shuzhi/internal/registry"
)

// Real roads and lanes of 姑苏区, for plausible building addresses.
var roads = []string{
	"平江路", "干将东路", "干将西路", "人民路", "十全街", "山塘街", "观前街", "临顿路", "凤凰街", "十梓街",
	"道前街", "景德路", "西中市", "阊门内大街", "石路", "桃花坞大街", "白塔东路", "白塔西路", "东北街", "齐门路",
	"北园路", "养育巷", "侍其巷", "钮家巷", "大儒巷", "悬桥巷", "菉葭巷", "中张家巷", "卫道观前", "仓街",
	"相门路", "葑门路", "南环东路", "友新路", "三香路", "金门路", "广济路", "虎丘路", "西园路", "留园路",
	"彩香路", "劳动路", "盘胥路", "吴门桥路", "南门路", "新市路", "书院巷", "乌鹊桥路", "饮马桥", "学士街",
}

var entityWords = []string{"平江", "姑苏", "吴门", "金阊", "沧浪", "双塔", "虎丘", "山塘", "观前", "阊门", "盘门", "葑溪", "相城", "锦绣", "新苏", "同里"}

var industryWords = []struct{ code, word string }{
	{"F", "商贸"}, {"H", "餐饮"}, {"I", "信息科技"}, {"L", "商务咨询"}, {"O", "家政服务"}, {"C", "工艺品制造"},
	{"E", "建筑工程"}, {"K", "物业管理"}, {"M", "技术服务"}, {"R", "文化传媒"}, {"P", "培训"}, {"Q", "健康管理"},
}

// Divisions of household registration for the demo population: mostly the
// district itself, then the rest of Suzhou and Jiangsu, then other
// provinces (migrant workers).
var hukou = []struct {
	code   string
	weight int
}{
	{"320508", 62}, {"320505", 5}, {"320506", 5}, {"320507", 4}, {"320581", 3}, {"320582", 3}, {"320583", 2},
	{"320102", 2}, {"320211", 2}, {"321002", 1}, {"340104", 2}, {"341202", 2}, {"410105", 2}, {"412702", 1},
	{"510107", 1}, {"362502", 1}, {"430102", 1}, {"370102", 1},
}

// baseData builds the demo district's base data: buildings with rooms,
// households and people, enterprises and organisations, and components,
// all deterministic from the seed. size is the number of people.
func baseData(d *district.District, seed int64, size int, now time.Time) registry.Batch {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x42415345))
	b := registry.Batch{BuildingsDept: "zj", PeopleDept: "ga", EntitiesDept: "scjg", Rooms: map[string][]string{}}
	grids := d.Grids
	// Buildings: about one per 60 people, spread over the grids.
	nBuildings := max(size/60, len(grids))
	houseNo := map[string]int{}
	type bld struct {
		addr string
		grid string
	}
	var blds []bld
	for i := range nBuildings {
		g := grids[i%len(grids)]
		lon, lat := pointIn(rng, g)
		road := roads[rng.IntN(len(roads))]
		houseNo[road]++
		no := fmt.Sprint(houseNo[road])
		use := "residential"
		switch r := rng.IntN(20); {
		case r < 2:
			use = "commercial"
		case r < 3:
			use = "office"
		case r < 4:
			use = "mixed"
		}
		floors := 2 + rng.IntN(6)
		if rng.IntN(6) == 0 {
			floors = 8 + rng.IntN(20)
		}
		b.Buildings = append(b.Buildings, registry.NewBuilding{Name: road + no + "号楼", Road: road, HouseNo: no, UseType: use, Floors: floors, Lon: &lon, Lat: &lat, GridCode: g.Code})
		blds = append(blds, bld{addr: road + no + "号", grid: g.Code})
	}
	// People in households in rooms.
	names := district.Names(seed+1, size)
	seen := map[string]bool{}
	p, hh := 0, 0
	for p < size {
		bd := blds[rng.IntN(len(blds))]
		hh++
		room := fmt.Sprintf("%d单元%d%02d室", 1+rng.IntN(3), 1+rng.IntN(6), 1+rng.IntN(4))
		addr := bd.addr + room
		if seen[addr] {
			continue
		}
		seen[addr] = true
		b.Rooms[bd.addr] = append(b.Rooms[bd.addr], room)
		members := 1 + rng.IntN(4)
		if rng.IntN(5) == 0 {
			members = 1
		}
		number := fmt.Sprintf("3205080%07d", hh)
		headAge := 25 + rng.IntN(60)
		for m := 0; m < members && p < size; m++ {
			age := headAge
			rel := "户主"
			switch m {
			case 1:
				age, rel = max(20, headAge-5+rng.IntN(10)), "配偶"
			case 2, 3:
				age, rel = max(0, headAge-25-rng.IntN(10)), "子女"
			}
			if m == 3 && rng.IntN(2) == 0 {
				age, rel = min(100, headAge+22+rng.IntN(8)), "父母"
			}
			div := pick(rng)
			birth := time.Date(now.Year()-age, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
			if birth.After(now) {
				birth = now.AddDate(0, 0, -1-rng.IntN(300))
			}
			var id string
			for {
				id = idcode.MakeCitizenID(div, birth, rng.IntN(1000))
				if !seen[id] {
					seen[id] = true
					break
				}
			}
			in := registry.NewPerson{IDNumber: id, Name: names[p], Relation: rel, Address: addr, GridCode: bd.grid, HouseholdNumber: number,
				Registered: div == "320508" || rng.IntN(4) == 0, Resident: rng.IntN(8) != 0}
			if !in.Registered && !in.Resident {
				in.Resident = true
			}
			if age >= 16 && rng.IntN(5) != 0 {
				in.Phone = fmt.Sprintf("1%d%d%08d", 3+rng.IntN(7), rng.IntN(10), rng.IntN(100_000_000))
			}
			switch {
			case age >= 70 && members == 1:
				in.Tags = append(in.Tags, "elderly-alone")
			case rng.IntN(50) == 0:
				in.Tags = append(in.Tags, "disabled")
			case rng.IntN(70) == 0:
				in.Tags = append(in.Tags, "low-income")
			case rng.IntN(300) == 0:
				in.Tags = append(in.Tags, "key-group")
			}
			b.People = append(b.People, in)
			p++
		}
	}
	// Enterprises and organisations: about one per 20 people.
	nEnt := max(size/20, 50)
	codes := map[string]bool{}
	for i := range nEnt {
		bd := blds[rng.IntN(len(blds))]
		g, _ := d.Grid(bd.grid)
		lon, lat := pointIn(rng, g)
		w := entityWords[rng.IntN(len(entityWords))]
		iw := industryWords[rng.IntN(len(industryWords))]
		auth, typ, name := byte('9'), byte('1'), fmt.Sprintf("苏州%s%s有限公司", w, iw.word)
		switch r := rng.IntN(10); {
		case r < 3:
			typ, name = '2', fmt.Sprintf("姑苏区%s%s店", w, iw.word)
		case r == 3:
			auth, typ, name, iw.code = '5', '1', fmt.Sprintf("姑苏区%s%s协会", w, []string{"志愿者", "老年", "书画", "商会", "养老服务"}[rng.IntN(5)]), "S"
		}
		var code string
		for {
			base := fmt.Sprintf("%08X", rng.Uint32())
			c, err := idcode.MakeCreditCode(auth, typ, "320508", base)
			if err == nil && !codes[c] {
				code = c
				codes[c] = true
				break
			}
		}
		if i > 0 && rng.IntN(3) == 0 {
			name = fmt.Sprintf("%s（%d）", name, i)
		}
		est := now.AddDate(-1-rng.IntN(25), -rng.IntN(12), -rng.IntN(28))
		status := "active"
		if rng.IntN(25) == 0 {
			status = "cancelled"
		}
		b.Entities = append(b.Entities, registry.NewEntity{CreditCode: code, Name: name, LegalRep: names[rng.IntN(len(names))], Industry: iw.code,
			Address: bd.addr, Status: status, Established: est.Format(time.DateOnly), Lon: &lon, Lat: &lat, GridCode: bd.grid})
	}
	// Components: about one per 5 people.
	classes := [][2]string{{"01", "01"}, {"01", "02"}, {"01", "03"}, {"01", "04"}, {"01", "05"}, {"01", "06"}, {"01", "07"}, {"01", "08"}, {"01", "09"}, {"01", "09"}, {"01", "09"},
		{"02", "02"}, {"02", "03"}, {"02", "04"}, {"02", "05"}, {"02", "06"}, {"03", "01"}, {"03", "02"}, {"03", "02"}, {"03", "03"}, {"03", "04"},
		{"04", "01"}, {"04", "01"}, {"04", "02"}, {"04", "03"}, {"05", "01"}, {"06", "01"}, {"06", "02"}, {"06", "03"}}
	nComp := max(size/5, 200)
	for range nComp {
		g := grids[rng.IntN(len(grids))]
		lon, lat := pointIn(rng, g)
		c := classes[rng.IntN(len(classes))]
		state := "normal"
		switch rng.IntN(40) {
		case 0:
			state = "damaged"
		case 1:
			state = "missing"
		}
		road := roads[rng.IntN(len(roads))]
		b.Components = append(b.Components, registry.NewComponent{Major: c[0], Minor: c[1], State: state, Address: fmt.Sprintf("%s%d号附近", road, 1+rng.IntN(300)),
			Lon: &lon, Lat: &lat, GridCode: g.Code})
	}
	return b
}

// pointIn draws a point inside a grid (the demo grids are rectangles),
// rounded to 1e-6 degrees and kept off the edges.
func pointIn(rng *rand.Rand, g district.Grid) (float64, float64) {
	w, s, e, n := g.Ring[0][0], g.Ring[0][1], g.Ring[0][0], g.Ring[0][1]
	for _, p := range g.Ring {
		w, e = min(w, p[0]), max(e, p[0])
		s, n = min(s, p[1]), max(n, p[1])
	}
	x := w + (e-w)*(0.05+0.9*rng.Float64())
	y := s + (n-s)*(0.05+0.9*rng.Float64())
	return float64(int64(x*1e6)) / 1e6, float64(int64(y*1e6)) / 1e6
}

func pick(rng *rand.Rand) string {
	total := 0
	for _, h := range hukou {
		total += h.weight
	}
	x := rng.IntN(total)
	for _, h := range hukou {
		if x < h.weight {
			return h.code
		}
		x -= h.weight
	}
	return hukou[0].code
}
