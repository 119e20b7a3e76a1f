package pdf_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/pdf"
)

// Structure checks a PDF's header, cross-reference table and trailer: every
// in-use entry points at "N 0 obj" and startxref at the table.
func Structure(t *testing.T, b []byte) (objects int) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-1.7\n")) {
		t.Fatalf("header %q", b[:min(len(b), 12)])
	}
	if !bytes.HasSuffix(b, []byte("%%EOF\n")) {
		t.Fatalf("no %%%%EOF at the end")
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(b[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table: %q", xref, b[xref:min(len(b), xref+10)])
	}
	rest := b[xref+len("xref\n"):]
	nl := bytes.IndexByte(rest, '\n')
	var first, count int
	if _, err := fmt.Sscanf(string(rest[:nl]), "%d %d", &first, &count); err != nil || first != 0 {
		t.Fatalf("subsection %q", rest[:nl])
	}
	entries := rest[nl+1:]
	for i := 0; i < count; i++ {
		e := entries[i*20 : i*20+20]
		if len(e) != 20 || e[18] != '\r' || e[19] != '\n' {
			t.Fatalf("entry %d is not 20 bytes: %q", i, e)
		}
		off, _ := strconv.Atoi(string(e[:10]))
		switch e[17] {
		case 'f':
			if i != 0 {
				t.Fatalf("free entry %d", i)
			}
		case 'n':
			want := fmt.Sprintf("%d 0 obj\n", i)
			if !bytes.HasPrefix(b[off:], []byte(want)) {
				t.Fatalf("object %d: offset %d points at %q", i, off, b[off:min(len(b), off+12)])
			}
		default:
			t.Fatalf("entry %d: %q", i, e)
		}
	}
	trailer := entries[count*20:]
	if !bytes.HasPrefix(trailer, []byte("trailer\n<< /Size "+strconv.Itoa(count)+" /Root 1 0 R")) {
		t.Fatalf("trailer %q", trailer[:min(len(trailer), 60)])
	}
	// Stream lengths match.
	for _, sm := range regexp.MustCompile(`/Length (\d+) >>\nstream\n`).FindAllSubmatchIndex(b, -1) {
		n, _ := strconv.Atoi(string(b[sm[2]:sm[3]]))
		if !bytes.HasPrefix(b[sm[1]+n:], []byte("\nendstream")) {
			t.Fatalf("stream at %d: /Length %d does not end at endstream", sm[1], n)
		}
	}
	return count - 1
}

// extract runs pdftotext (poppler) when present.
func extract(t *testing.T, b []byte) (string, bool) {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Log("pdftotext not installed: text extraction not checked (scripts/deps.sh test installs poppler-utils)")
		return "", false
	}
	f := filepath.Join(t.TempDir(), "t.pdf")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", f, "-").CombinedOutput()
	if bytes.Contains(out, []byte("CMap file")) {
		t.Logf("pdftotext lacks the Adobe CMaps (Debian package poppler-data): text extraction not checked\n%s", out)
		return "", false
	}
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out), true
}

func TestTableReport(t *testing.T) {
	header := []string{"单位", "立案数", "派遣数", "准确派遣率", "按期结案率", "平均处置时长(小时)"}
	var rows [][]string
	for i := range 120 {
		rows = append(rows, []string{fmt.Sprintf("姑苏区城市管理局第%d中队", i+1), strconv.Itoa(100 + i), strconv.Itoa(90 + i), "97.5%", "88.1%", "12.3"})
	}
	rows = append(rows, []string{"合计 Total", "99999", "88888", "100.0%", "0.0%", "3.5"})
	b := pdf.Table(pdf.Report{Title: "姑苏区城市管理月度考核报表", Subtitle: []string{"统计周期：2026年03月01日 至 2026年03月31日"}, Header: header, Rows: rows,
		Align: []pdf.Align{pdf.Left, pdf.Right, pdf.Right, pdf.Right, pdf.Right, pdf.Right}, Landscape: true, Footer: "数治 Shuzhi",
		Created: time.Date(2026, 4, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))})
	n := Structure(t, b)
	if pages := bytes.Count(b, []byte("/Type /Page /Parent")); pages < 3 {
		t.Fatalf("%d pages for 121 rows; want several", pages)
	} else if n != 7+2*pages {
		t.Fatalf("%d objects for %d pages", n, pages)
	}
	for _, want := range []string{"/BaseFont /STSong-Light-UniGB-UCS2-H", "/Encoding /UniGB-UCS2-H", "/Subtype /CIDFontType0", "/Registry (Adobe) /Ordering (GB1) /Supplement 4", "/ToUnicode"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("missing %s", want)
		}
	}
	if bytes.Contains(b, []byte("/FontFile")) {
		t.Error("the font must not be embedded")
	}
	text, ok := extract(t, b)
	if !ok {
		return
	}
	for _, want := range []string{"姑苏区城市管理月度考核报表", "统计周期：2026年03月01日", "单位", "平均处置时", "姑苏区城市管理局第1中队", "第120中队", "合计 Total", "99999", "97.5%", "第 1 页"} {
		if !strings.Contains(text, want) {
			t.Errorf("extracted text lacks %q:\n%s", want, text[:min(len(text), 2000)])
		}
	}
}

func TestEmptyAndOddText(t *testing.T) {
	d := pdf.New("空")
	Structure(t, d.Bytes()) // no page: one blank page
	d = pdf.New("符号")
	p := d.AddPage(pdf.A4Width, pdf.A4Height)
	p.Text(50, 700, 12, "括号(和)反斜杠\\ 与 emoji 😀 与换行\n")
	b := d.Bytes()
	Structure(t, b)
	if text, ok := extract(t, b); ok && !strings.Contains(text, "括号(和)反斜杠\\ 与 emoji ? 与换行") {
		t.Fatalf("text %q", text)
	}
}
