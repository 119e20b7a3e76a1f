// Package pdf writes small PDF 1.7 documents: pages of text, lines and
// filled boxes, and a paginated table report. Text uses the standard CJK
// font STSong-Light (Adobe-GB1) without embedding it, encoded UniGB-UCS2-H,
// so Chinese renders in any conforming viewer and the files stay small; a
// ToUnicode map keeps the text searchable and extractable.
//
// Coordinates are PDF points (1/72 inch) from the bottom-left corner.
package pdf

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Page sizes in points.
const (
	A4Width  = 595.28
	A4Height = 841.89
)

// Doc is a document being built.
type Doc struct {
	Title   string
	Author  string
	Created time.Time // zero: the time of writing
	pages   []*Page
}

// Page is one page; its drawing operators are kept until the document is written.
type Page struct {
	Width, Height float64
	ops           bytes.Buffer
}

// New returns an empty document.
func New(title string) *Doc { return &Doc{Title: title} }

// AddPage appends a page of the given size.
func (d *Doc) AddPage(width, height float64) *Page {
	p := &Page{Width: width, Height: height}
	d.pages = append(d.pages, p)
	return p
}

// Pages returns the pages added so far.
func (d *Doc) Pages() []*Page { return d.pages }

// Text draws s with its baseline starting at (x, y).
func (p *Page) Text(x, y, size float64, s string) {
	if s == "" {
		return
	}
	fmt.Fprintf(&p.ops, "BT /F1 %s Tf %s %s Td <%s> Tj ET\n", num(size), num(x), num(y), encode(s))
}

// Line strokes a line of the given width.
func (p *Page) Line(x1, y1, x2, y2, width float64) {
	fmt.Fprintf(&p.ops, "%s w %s %s m %s %s l S\n", num(width), num(x1), num(y1), num(x2), num(y2))
}

// Rect strokes a rectangle; (x, y) is its lower-left corner.
func (p *Page) Rect(x, y, w, h, width float64) {
	fmt.Fprintf(&p.ops, "%s w %s %s %s %s re S\n", num(width), num(x), num(y), num(w), num(h))
}

// Fill fills a rectangle in a grey level (0 black, 1 white).
func (p *Page) Fill(x, y, w, h, grey float64) {
	fmt.Fprintf(&p.ops, "q %s g %s %s %s %s re f Q\n", num(grey), num(x), num(y), num(w), num(h))
}

// TextWidth is the advance of s at size: CJK and other wide characters
// take one em, ASCII half an em (the widths the font dictionary declares).
func TextWidth(s string, size float64) float64 {
	var w float64
	for _, r := range s {
		w += runeWidth(r)
	}
	return w * size / 1000
}

func runeWidth(r rune) float64 {
	if r >= 0x20 && r <= 0x7e {
		return 500
	}
	return 1000
}

// encode is the text as UCS-2 big-endian hex, the codes of UniGB-UCS2-H.
// Characters outside the Basic Multilingual Plane and control characters
// become '?'.
func encode(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r > 0xffff || utf16.IsSurrogate(r) {
			r = '?'
		}
		fmt.Fprintf(&b, "%04X", r)
	}
	return b.String()
}

// num formats a coordinate compactly (at most two decimals).
func num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// textString is a PDF text string: UTF-16BE with a byte-order mark, in hex.
func textString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// writer numbers objects and records their byte offsets for the
// cross-reference table.
type writer struct {
	buf     bytes.Buffer
	offsets []int // offsets[i] is object i+1's
}

func (w *writer) reserve() int {
	w.offsets = append(w.offsets, -1)
	return len(w.offsets)
}

func (w *writer) begin(n int) {
	w.offsets[n-1] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n", n)
}

func (w *writer) object(n int, body string) {
	w.begin(n)
	w.buf.WriteString(body)
	w.buf.WriteString("\nendobj\n")
}

func (w *writer) stream(n int, dict string, data []byte, compress bool) {
	if compress {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		_, _ = zw.Write(data)
		_ = zw.Close()
		data = z.Bytes()
		dict += " /Filter /FlateDecode"
	}
	w.begin(n)
	fmt.Fprintf(&w.buf, "<< %s /Length %d >>\nstream\n", dict, len(data))
	w.buf.Write(data)
	w.buf.WriteString("\nendstream\nendobj\n")
}

// toUnicode maps every two-byte code to the same UTF-16 code unit (the
// encoding is UCS-2), in ranges that do not cross a low-byte boundary.
func toUnicode() []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	var ranges []int
	for hi := 0; hi < 256; hi++ {
		if hi >= 0xd8 && hi <= 0xdf { // surrogates: never written
			continue
		}
		ranges = append(ranges, hi)
	}
	for i := 0; i < len(ranges); i += 100 {
		chunk := ranges[i:min(len(ranges), i+100)]
		fmt.Fprintf(&b, "%d beginbfrange\n", len(chunk))
		for _, hi := range chunk {
			fmt.Fprintf(&b, "<%02X00> <%02XFF> <%02X00>\n", hi, hi, hi)
		}
		b.WriteString("endbfrange\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

// Bytes renders the document.
func (d *Doc) Bytes() []byte {
	var b bytes.Buffer
	_, _ = d.WriteTo(&b)
	return b.Bytes()
}

// WriteTo writes the document as PDF 1.7 with a classic cross-reference
// table.
func (d *Doc) WriteTo(out io.Writer) (int64, error) {
	pages := d.pages
	if len(pages) == 0 {
		pages = []*Page{{Width: A4Width, Height: A4Height}}
	}
	var w writer
	w.buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n") // binary marker: the file has 8-bit data
	catalog, tree, font, cid, desc, cmap, info := w.reserve(), w.reserve(), w.reserve(), w.reserve(), w.reserve(), w.reserve(), w.reserve()
	pageObjs := make([]int, len(pages))
	contentObjs := make([]int, len(pages))
	for i := range pages {
		pageObjs[i], contentObjs[i] = w.reserve(), w.reserve()
	}
	w.object(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", tree))
	kids := make([]string, len(pages))
	for i, n := range pageObjs {
		kids[i] = fmt.Sprintf("%d 0 R", n)
	}
	w.object(tree, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)))
	// Type 0 font over the non-embedded CID-keyed STSong-Light: its
	// BaseFont is the CIDFont's name and the CMap's, joined by a hyphen.
	w.object(font, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UCS2-H /Encoding /UniGB-UCS2-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", cid, cmap))
	w.object(cid, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "+
		"/FontDescriptor %d 0 R /DW 1000 /W [1 95 500] >>", desc))
	w.object(desc, "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 "+
		"/Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
	w.stream(cmap, "", toUnicode(), true)
	created := d.Created
	if created.IsZero() {
		created = time.Now()
	}
	_, off := created.Zone()
	tz := "Z"
	if off != 0 {
		sign := '+'
		if off < 0 {
			sign, off = '-', -off
		}
		tz = fmt.Sprintf("%c%02d'%02d'", sign, off/3600, off%3600/60)
	}
	w.object(info, fmt.Sprintf("<< /Title %s /Author %s /Producer (Shuzhi) /CreationDate (D:%s%s) >>",
		textString(d.Title), textString(d.Author), created.Format("20060102150405"), tz))
	for i, p := range pages {
		w.object(pageObjs[i], fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 %d 0 R >> /ProcSet [/PDF /Text] >> /Contents %d 0 R >>",
			tree, num(p.Width), num(p.Height), font, contentObjs[i]))
		w.stream(contentObjs[i], "", p.ops.Bytes(), true)
	}
	xref := w.buf.Len()
	fmt.Fprintf(&w.buf, "xref\n0 %d\n0000000000 65535 f\r\n", len(w.offsets)+1)
	for _, o := range w.offsets {
		fmt.Fprintf(&w.buf, "%010d 00000 n\r\n", o)
	}
	id := md5.Sum(w.buf.Bytes())
	fmt.Fprintf(&w.buf, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%X> <%X>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(w.offsets)+1, catalog, info, id[:], id[:], xref)
	n, err := out.Write(w.buf.Bytes())
	return int64(n), err
}
