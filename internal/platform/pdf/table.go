package pdf

import (
	"fmt"
	"strings"
	"time"
)

// Align places text in a table column.
type Align int

// Alignments.
const (
	Left Align = iota
	Right
	Center
)

// Report is a title, a few lines under it and a table that runs over as
// many pages as it needs, its header repeated on each.
type Report struct {
	Title    string
	Subtitle []string // lines under the title (period, scope, ...)
	Header   []string
	Rows     [][]string
	Align    []Align // per column; missing columns are left-aligned
	// Landscape turns the A4 page sideways (for wide tables).
	Landscape bool
	// FontSize of the table (default 8; shrunk down to 5 when the table is too wide).
	FontSize float64
	Footer   string // left of the page number on every page
	Created  time.Time
}

const (
	margin = 36.0 // half an inch
	pad    = 2.5
)

// Table lays out a report and returns the PDF.
func Table(r Report) []byte {
	pw, ph := A4Width, A4Height
	if r.Landscape {
		pw, ph = ph, pw
	}
	fs := r.FontSize
	if fs == 0 {
		fs = 8
	}
	cols := len(r.Header)
	for _, row := range r.Rows {
		cols = max(cols, len(row))
	}
	avail := pw - 2*margin
	widths := columnWidths(r, cols, fs)
	total := 0.0
	for _, w := range widths {
		total += w
	}
	if total > avail {
		// Shrink the type first (down to 5 pt), then squeeze the columns:
		// cells wrap.
		scale := avail / total
		nfs := max(5, fs*scale)
		f := nfs / fs
		fs = nfs
		total = 0
		for i := range widths {
			widths[i] *= f
			total += widths[i]
		}
		if total > avail {
			for i := range widths {
				widths[i] *= avail / total
			}
		}
	}
	lead := fs * 1.25
	d := New(r.Title)
	d.Created = r.Created
	var p *Page
	var y float64
	header := func() {
		lines, h := rowLines(r.Header, widths, fs, lead)
		drawRow(p, lines, widths, margin, y, h, fs, lead, nil, true)
		y -= h
	}
	newPage := func(first bool) {
		p = d.AddPage(pw, ph)
		y = ph - margin
		if first {
			ts := 16.0
			for _, line := range wrap(r.Title, avail, ts) {
				p.Text(margin+(avail-TextWidth(line, ts))/2, y-ts, ts, line)
				y -= ts * 1.4
			}
			y -= 4
			for _, s := range r.Subtitle {
				p.Text(margin, y-10, 10, s)
				y -= 14
			}
			y -= 6
		}
		if len(r.Header) > 0 {
			header()
		}
	}
	newPage(true)
	for _, row := range r.Rows {
		lines, h := rowLines(row, widths, fs, lead)
		if y-h < margin+14 && y < ph-margin-1 {
			newPage(false)
		}
		drawRow(p, lines, widths, margin, y, h, fs, lead, r.Align, false)
		y -= h
	}
	for i, pg := range d.pages {
		n := fmt.Sprintf("第 %d 页 / 共 %d 页", i+1, len(d.pages))
		pg.Text(pw-margin-TextWidth(n, 8), margin-14, 8, n)
		if r.Footer != "" {
			pg.Text(margin, margin-14, 8, r.Footer)
		}
	}
	return d.Bytes()
}

// columnWidths: each column as wide as its widest cell, the header wrapped
// on up to two lines, plus padding.
func columnWidths(r Report, cols int, fs float64) []float64 {
	w := make([]float64, cols)
	for i := range w {
		w[i] = fs * 2
	}
	for i, h := range r.Header {
		w[i] = max(w[i], TextWidth(h, fs)/2+fs, longestWord(h, fs))
	}
	for _, row := range r.Rows {
		for i, c := range row {
			w[i] = max(w[i], TextWidth(c, fs))
		}
	}
	for i := range w {
		w[i] += 2 * pad
	}
	return w
}

func longestWord(s string, fs float64) float64 {
	var m float64
	for _, f := range strings.Fields(s) {
		if isASCII(f) {
			m = max(m, TextWidth(f, fs))
		}
	}
	return m
}

func isASCII(s string) bool {
	for _, r := range s {
		if r > 0x7e {
			return false
		}
	}
	return true
}

func rowLines(cells []string, widths []float64, fs, lead float64) ([][]string, float64) {
	lines := make([][]string, len(widths))
	n := 1
	for i := range widths {
		c := ""
		if i < len(cells) {
			c = cells[i]
		}
		lines[i] = wrap(c, widths[i]-2*pad, fs)
		n = max(n, len(lines[i]))
	}
	return lines, float64(n)*lead + 2*pad
}

func drawRow(p *Page, lines [][]string, widths []float64, x, top, h, fs, lead float64, align []Align, head bool) {
	if head {
		total := 0.0
		for _, w := range widths {
			total += w
		}
		p.Fill(x, top-h, total, h, 0.9)
	}
	for i, w := range widths {
		p.Rect(x, top-h, w, h, 0.5)
		a := Left
		if head {
			a = Center
		} else if i < len(align) {
			a = align[i]
		}
		for j, line := range lines[i] {
			tx := x + pad
			switch a {
			case Right:
				tx = x + w - pad - TextWidth(line, fs)
			case Center:
				tx = x + (w-TextWidth(line, fs))/2
			}
			p.Text(tx, top-pad-float64(j)*lead-fs*0.95, fs, line)
		}
		x += w
	}
}

// wrap breaks text into lines no wider than width: between words for
// Latin text, between any two characters for Chinese.
func wrap(s string, width, fs float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		var line []rune
		lw := 0.0
		lastSpace := -1
		for _, r := range para {
			rw := runeWidth(r) * fs / 1000
			if lw+rw > width && len(line) > 0 {
				if r != ' ' && lastSpace > 0 && line[len(line)-1] != ' ' && isLatin(r) {
					out = append(out, strings.TrimRight(string(line[:lastSpace]), " "))
					line = append([]rune{}, line[lastSpace+1:]...)
				} else {
					out = append(out, strings.TrimRight(string(line), " "))
					line = line[:0]
				}
				lastSpace = -1
				lw = TextWidth(string(line), fs)
				if r == ' ' {
					continue
				}
			}
			if r == ' ' {
				lastSpace = len(line)
			}
			line = append(line, r)
			lw += rw
		}
		out = append(out, string(line))
	}
	return out
}

func isLatin(r rune) bool { return r > ' ' && r <= 0x7e }
