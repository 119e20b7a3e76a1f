package cases

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/xuri/excelize/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
	"github.com/shuzhi-gov/shuzhi/internal/platform/pdf"
)

// StatsRoutes registers the performance indicators: the live board and the
// monthly report (xlsx, pdf, csv).
func (s *Service) StatsRoutes(api huma.API) {
	type boardIn struct {
		By     string `query:"by" enum:"dept,street,community,grid,gridworker" default:"dept" doc:"Group by unit, street, community, unit grid or reporting grid worker"`
		Within string `query:"within" maxLength:"15" pattern:"^[0-9]*$" doc:"Division or grid code"`
		From   string `query:"from" maxLength:"30" doc:"Cases reported at or after (unix ms, RFC 3339 or YYYY-MM-DD); default the start of this month"`
		To     string `query:"to" maxLength:"30" doc:"Cases reported before (unix ms, RFC 3339 or YYYY-MM-DD, that day included); default now"`
	}
	httpx.Register(api, httpx.Op{Operation: op("case-indicators", http.MethodGet, v1+"/cases/indicators", "Performance indicators (GB/T 30428.4): filing, dispatch, on-time handling and closing, rework, satisfaction"),
		Perm: authz.CasesRead},
		func(ctx context.Context, in *boardIn) (*httpx.Body[*IndicatorReport], error) {
			from, err := parseInstant("from", in.From, false)
			if err != nil {
				return nil, err
			}
			to, err := parseInstant("to", in.To, true)
			if err != nil {
				return nil, err
			}
			r, err := s.Indicators(ctx, IndicatorQuery{By: in.By, Within: in.Within, From: from, To: to})
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})

	type exportIn struct {
		Format string `query:"format" enum:"xlsx,pdf,csv" default:"xlsx" doc:"File format"`
		By     string `query:"by" enum:"dept,street,community,grid,gridworker" default:"dept"`
		Within string `query:"within" maxLength:"15" pattern:"^[0-9]*$" doc:"Division or grid code"`
		Month  string `query:"month" pattern:"^[0-9]{4}-(0[1-9]|1[0-2])$" doc:"YYYY-MM (China time); default this month"`
	}
	httpx.Register(api, httpx.Op{Operation: op("export-case-indicators", http.MethodGet, v1+"/cases/indicators/export", "The monthly indicators report (xlsx, pdf or csv)"), Perm: authz.CasesRead},
		func(ctx context.Context, in *exportIn) (*httpx.File, error) {
			start := monthStart(s.now())
			if in.Month != "" {
				t, err := time.ParseInLocation("2006-01", in.Month, cst)
				if err != nil {
					return nil, errs.Invalid("month", "format", "must be YYYY-MM", "应为 YYYY-MM 格式")
				}
				start = t
			}
			end := start.AddDate(0, 1, 0)
			r, err := s.Indicators(ctx, IndicatorQuery{By: in.By, Within: in.Within, From: start.UnixMilli(), To: end.UnixMilli()})
			if err != nil {
				return nil, err
			}
			rep := s.monthly(ctx, r, start)
			return rep.file(in.Format)
		})
}

// parseInstant reads unix milliseconds, RFC 3339 or a date.
func parseInstant(field, v string, end bool) (int64, error) {
	if v != "" && strings.Trim(v, "0123456789") == "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, errs.Invalid(field, "format", "must be unix milliseconds, RFC 3339 or YYYY-MM-DD", "应为毫秒时间戳、RFC 3339 或 YYYY-MM-DD 格式")
		}
		return ms, nil
	}
	return parseTime(field, v, end)
}

var groupingZh = map[string]string{"dept": "承办单位", "street": "街道", "community": "社区", "grid": "单元网格", "gridworker": "网格员"}

// indicatorColumn is one column of the report: a count, a rate or hours.
type indicatorColumn struct {
	head string
	kind byte // 'n' count, 'r' rate, 'h' hours
	get  func(r *IndicatorRow) float64
}

func indicatorColumns(by string) []indicatorColumn {
	n := func(f func(r *IndicatorRow) int) func(r *IndicatorRow) float64 {
		return func(r *IndicatorRow) float64 { return float64(f(r)) }
	}
	cols := []indicatorColumn{
		{"上报数", 'n', n(func(r *IndicatorRow) int { return r.Reported })},
		{"立案数", 'n', n(func(r *IndicatorRow) int { return r.Filed })},
		{"派遣数", 'n', n(func(r *IndicatorRow) int { return r.Dispatched })},
		{"准确派遣数", 'n', n(func(r *IndicatorRow) int { return r.AccurateDispatched })},
		{"准确派遣率", 'r', func(r *IndicatorRow) float64 { return r.AccurateDispatchRate }},
		{"处置数", 'n', n(func(r *IndicatorRow) int { return r.Handled })},
		{"按期处置数", 'n', n(func(r *IndicatorRow) int { return r.HandledOnTime })},
		{"按期处置率", 'r', func(r *IndicatorRow) float64 { return r.HandledOnTimeRate }},
		{"应结案数", 'n', n(func(r *IndicatorRow) int { return r.Due })},
		{"结案数", 'n', n(func(r *IndicatorRow) int { return r.Closed })},
		{"结案率", 'r', func(r *IndicatorRow) float64 { return r.CloseRate }},
		{"按期结案数", 'n', n(func(r *IndicatorRow) int { return r.ClosedOnTime })},
		{"按期结案率", 'r', func(r *IndicatorRow) float64 { return r.ClosedOnTimeRate }},
		{"超期结案数", 'n', n(func(r *IndicatorRow) int { return r.ClosedLate })},
		{"超期未结数", 'n', n(func(r *IndicatorRow) int { return r.OverdueOpen })},
		{"返工数", 'n', n(func(r *IndicatorRow) int { return r.Reworked })},
		{"返工率", 'r', func(r *IndicatorRow) float64 { return r.ReworkRate }},
		{"平均处置时长(小时)", 'h', func(r *IndicatorRow) float64 { return r.AvgHandleHours }},
		{"评价数", 'n', n(func(r *IndicatorRow) int { return r.Rated })},
		{"满意率", 'r', func(r *IndicatorRow) float64 { return r.SatisfactionRate }},
	}
	if by == "gridworker" {
		cols = append(cols, indicatorColumn{"核查数", 'n', n(func(r *IndicatorRow) int { return r.Verifications })},
			indicatorColumn{"核查未通过数", 'n', n(func(r *IndicatorRow) int { return r.VerifyFailed })})
	}
	return cols
}

func (c indicatorColumn) text(r *IndicatorRow) string {
	v := c.get(r)
	switch c.kind {
	case 'r':
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	case 'h':
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// monthlyReport is an indicator report laid out for people.
type monthlyReport struct {
	name     string // file name stem
	title    string
	lines    []string // period, region, time of generation
	withCode bool
	keyHead  string
	cols     []indicatorColumn
	r        *IndicatorReport
}

func (s *Service) monthly(ctx context.Context, r *IndicatorReport, start time.Time) *monthlyReport {
	region := "本人辖区"
	if p := authz.From(ctx); p != nil && p.Nationwide {
		region = "全部"
	}
	if r.Within != "" {
		region = r.Within
		if n := s.names(ctx, []string{r.Within})[r.Within]; n != "" {
			region = n + "（" + r.Within + "）"
		}
	}
	end := time.UnixMilli(r.To).In(cst).AddDate(0, 0, -1)
	return &monthlyReport{
		name:  fmt.Sprintf("case-indicators-%s-%s", r.By, start.Format("2006-01")),
		title: fmt.Sprintf("城市管理案件考核月报（%s）——按%s", start.Format("2006年01月"), groupingZh[r.By]),
		lines: []string{
			fmt.Sprintf("统计周期：%s 至 %s（按上报时间）", start.Format("2006年01月02日"), end.Format("2006年01月02日")),
			"统计范围：" + region,
			"生成时间：" + time.UnixMilli(r.GeneratedAt).In(cst).Format("2006-01-02 15:04"),
		},
		withCode: r.By == "street" || r.By == "community" || r.By == "grid",
		keyHead:  groupingZh[r.By],
		cols:     indicatorColumns(r.By),
		r:        r,
	}
}

func (m *monthlyReport) header() []string {
	h := []string{m.keyHead}
	if m.withCode {
		h = append(h, "代码")
	}
	for _, c := range m.cols {
		h = append(h, c.head)
	}
	return h
}

func (m *monthlyReport) lead(r *IndicatorRow) []string {
	name := r.Name
	if name == "" {
		name = r.Key
	}
	out := []string{name}
	if m.withCode {
		out = append(out, r.Key)
	}
	return out
}

func (m *monthlyReport) textRows() [][]string {
	var rows [][]string
	all := append(append([]IndicatorRow{}, m.r.Rows...), m.r.Total)
	for i := range all {
		row := m.lead(&all[i])
		if i == len(all)-1 && m.withCode {
			row[1] = ""
		}
		for _, c := range m.cols {
			row = append(row, c.text(&all[i]))
		}
		rows = append(rows, row)
	}
	return rows
}

func (m *monthlyReport) file(format string) (*httpx.File, error) {
	switch format {
	case "csv":
		rows := [][]string{{m.title}}
		for _, l := range m.lines {
			rows = append(rows, []string{l})
		}
		rows = append(rows, []string{}, m.header())
		rows = append(rows, m.textRows()...)
		// httpx.Export writes its header first: the title is that line.
		f, err := httpx.Export(m.name, "csv", rows[0], rows[1:])
		return f, err
	case "pdf":
		align := []pdf.Align{pdf.Left}
		if m.withCode {
			align = append(align, pdf.Left)
		}
		for range m.cols {
			align = append(align, pdf.Right)
		}
		b := pdf.Table(pdf.Report{Title: m.title, Subtitle: m.lines, Header: m.header(), Rows: m.textRows(), Align: align, Landscape: true,
			FontSize: 7, Footer: "数治 Shuzhi · 一网统管", Created: time.UnixMilli(m.r.GeneratedAt).In(cst)})
		return &httpx.File{ContentType: "application/pdf", Disposition: disposition(m.name + ".pdf"), Body: b}, nil
	}
	return m.xlsx()
}

func disposition(filename string) string {
	return fmt.Sprintf("attachment; filename=%q; filename*=UTF-8''%s", filename, url.PathEscape(filename))
}

// xlsx: the title across the table, the period and region, the header,
// then a row per group and the total, counts as numbers and rates as
// percentages.
func (m *monthlyReport) xlsx() (*httpx.File, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "考核月报"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	header := m.header()
	last, _ := excelize.ColumnNumberToName(len(header))
	titleStyle, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	headStyle, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#E7E6E6"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}, Border: borders()})
	textStyle, _ := f.NewStyle(&excelize.Style{Border: borders()})
	pctFmt, oneFmt := "0.0%", "0.0"
	countStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 1, Border: borders()})
	pctStyle, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &pctFmt, Border: borders()})
	hourStyle, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &oneFmt, Border: borders()})
	totalStyle, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Border: borders()})

	if err := f.MergeCell(sheet, "A1", last+"1"); err != nil {
		return nil, err
	}
	_ = f.SetCellValue(sheet, "A1", m.title)
	_ = f.SetCellStyle(sheet, "A1", "A1", titleStyle)
	_ = f.SetRowHeight(sheet, 1, 28)
	for i, l := range m.lines {
		cell := fmt.Sprintf("A%d", i+2)
		_ = f.MergeCell(sheet, cell, fmt.Sprintf("%s%d", last, i+2))
		_ = f.SetCellValue(sheet, cell, l)
	}
	hr := len(m.lines) + 3
	for i, h := range header {
		cell, _ := excelize.CoordinatesToCellName(i+1, hr)
		_ = f.SetCellValue(sheet, cell, h)
	}
	a, _ := excelize.CoordinatesToCellName(1, hr)
	z, _ := excelize.CoordinatesToCellName(len(header), hr)
	_ = f.SetCellStyle(sheet, a, z, headStyle)
	_ = f.SetRowHeight(sheet, hr, 32)
	all := append(append([]IndicatorRow{}, m.r.Rows...), m.r.Total)
	for i := range all {
		row := hr + 1 + i
		lead := m.lead(&all[i])
		if i == len(all)-1 && m.withCode {
			lead[1] = ""
		}
		for j, v := range lead {
			cell, _ := excelize.CoordinatesToCellName(j+1, row)
			_ = f.SetCellStr(sheet, cell, v)
			_ = f.SetCellStyle(sheet, cell, cell, textStyle)
		}
		for j, c := range m.cols {
			cell, _ := excelize.CoordinatesToCellName(len(lead)+j+1, row)
			v := c.get(&all[i])
			st := countStyle
			switch c.kind {
			case 'r':
				st = pctStyle
			case 'h':
				st = hourStyle
			}
			if c.kind == 'n' {
				_ = f.SetCellInt(sheet, cell, int64(v))
			} else {
				_ = f.SetCellFloat(sheet, cell, v, 4, 64)
			}
			_ = f.SetCellStyle(sheet, cell, cell, st)
		}
		if i == len(all)-1 {
			ta, _ := excelize.CoordinatesToCellName(1, row)
			_ = f.SetCellStyle(sheet, ta, ta, totalStyle)
		}
	}
	_ = f.SetColWidth(sheet, "A", "A", 28)
	if m.withCode {
		_ = f.SetColWidth(sheet, "B", "B", 17)
	}
	first, _ := excelize.ColumnNumberToName(len(header) - len(m.cols) + 1)
	_ = f.SetColWidth(sheet, first, last, 11)
	_ = f.SetPanes(sheet, &excelize.Panes{Freeze: true, XSplit: 1, YSplit: hr, TopLeftCell: fmt.Sprintf("B%d", hr+1), ActivePane: "bottomRight"})
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		return nil, err
	}
	return &httpx.File{ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Disposition: disposition(m.name + ".xlsx"), Body: b.Bytes()}, nil
}

func borders() []excelize.Border {
	var out []excelize.Border
	for _, side := range []string{"left", "right", "top", "bottom"} {
		out = append(out, excelize.Border{Type: side, Color: "#999999", Style: 1})
	}
	return out
}
