package httpx

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/url"
	"time"

	"github.com/xuri/excelize/v2"
)

// ExportQuery is embedded in export inputs.
type ExportQuery struct {
	Format string `query:"format" enum:"xlsx,csv" default:"xlsx" doc:"File format"`
}

// MaxExportRows bounds one export; larger sets must be narrowed by filters.
const MaxExportRows = 100_000

// File is a downloadable response.
type File struct {
	ContentType string `header:"Content-Type"`
	Disposition string `header:"Content-Disposition"`
	Body        []byte
}

// Export renders a table as an Excel workbook or a UTF-8 CSV (with BOM so
// that Excel opens Chinese text correctly).
func Export(name, format string, header []string, rows [][]string) (*File, error) {
	stamp := time.Now().UTC().Format("20060102-150405")
	filename := fmt.Sprintf("%s-%s.%s", name, stamp, format)
	disp := fmt.Sprintf("attachment; filename=%q; filename*=UTF-8''%s", filename, url.PathEscape(filename))
	if format == "csv" {
		var b bytes.Buffer
		b.WriteString("\ufeff")
		w := csv.NewWriter(&b)
		_ = w.Write(header)
		_ = w.WriteAll(rows)
		if err := w.Error(); err != nil {
			return nil, err
		}
		return &File{ContentType: "text/csv; charset=utf-8", Disposition: disp, Body: b.Bytes()}, nil
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := "Sheet1"
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	row := make([]any, len(header))
	for i, h := range header {
		row[i] = h
	}
	if err := sw.SetRow("A1", row); err != nil {
		return nil, err
	}
	for r, cells := range rows {
		row := make([]any, len(cells))
		for i, c := range cells {
			row[i] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, r+2)
		if err := sw.SetRow(cell, row); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		return nil, err
	}
	return &File{ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Disposition: disp, Body: b.Bytes()}, nil
}
