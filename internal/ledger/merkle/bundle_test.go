package merkle

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestBundleRoundTrip(t *testing.T) {
	t.Parallel()
	many := func(n, size int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = bytes.Repeat([]byte{byte(i)}, size+i%3)
		}
		return out
	}
	cases := []struct {
		name    string
		entries [][]byte
	}{
		{"one", [][]byte{[]byte("hello")}},
		{"one empty entry", [][]byte{{}}},
		{"empty entries", [][]byte{{}, {}, {}}},
		{"mixed", [][]byte{[]byte("a"), {}, []byte("数治"), make([]byte, 1000)}},
		{"max entry", [][]byte{make([]byte, MaxEntrySize), []byte("x")}},
		{"full bundle", many(256, 10)},
		{"partial bundle", many(255, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := MarshalBundle(tc.entries)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseBundle(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.entries) {
				t.Fatalf("%d entries, want %d", len(got), len(tc.entries))
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.entries[i]) {
					t.Fatalf("entry %d differs", i)
				}
			}
			// Appending to an entry must not overwrite the next one.
			if len(got) > 1 {
				_ = append(got[0], 0xff, 0xff, 0xff)
				if !bytes.Equal(got[1], tc.entries[1]) {
					t.Fatal("entries share capacity")
				}
			}
		})
	}
	t.Run("encoding", func(t *testing.T) {
		t.Parallel()
		b, _ := MarshalBundle([][]byte{[]byte("ab"), {}, bytes.Repeat([]byte("z"), 0x123)})
		want := append([]byte{0, 2, 'a', 'b', 0, 0, 0x01, 0x23}, bytes.Repeat([]byte("z"), 0x123)...)
		if !bytes.Equal(b, want) {
			t.Fatalf("MarshalBundle = %x", b[:8])
		}
	})
}

func TestBundleRejects(t *testing.T) {
	t.Parallel()
	marshal := []struct {
		name    string
		entries [][]byte
	}{
		{"no entries", nil},
		{"too many entries", make([][]byte, 257)},
		{"entry too large", [][]byte{[]byte("ok"), make([]byte, MaxEntrySize+1)}},
	}
	for _, tc := range marshal {
		t.Run("marshal/"+tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := MarshalBundle(tc.entries); err == nil {
				t.Fatal("no error")
			}
		})
	}
	tooMany := bytes.Repeat([]byte{0, 0}, 257)
	parse := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", []byte{0}},
		{"truncated length", []byte{0, 1, 'a', 0}},
		{"truncated entry", []byte{0, 3, 'a', 'b'}},
		{"length past end", []byte{0xff, 0xff, 1, 2, 3}},
		{"257 entries", tooMany},
	}
	for _, tc := range parse {
		t.Run("parse/"+tc.name, func(t *testing.T) {
			t.Parallel()
			if e, err := ParseBundle(tc.data); err == nil {
				t.Fatalf("ParseBundle = %d entries", len(e))
			}
		})
	}
	t.Run("parse/256 entries", func(t *testing.T) {
		t.Parallel()
		if e, err := ParseBundle(tooMany[:512]); err != nil || len(e) != 256 {
			t.Fatalf("ParseBundle = %d, %v", len(e), err)
		}
	})
}

func FuzzParseBundle(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0})
	f.Add([]byte{0, 2, 'h', 'i', 0, 1, '!'})
	f.Add([]byte{0, 5, 'h'})
	f.Add(bytes.Repeat([]byte{0, 0}, 257))
	b, _ := MarshalBundle([][]byte{make([]byte, 300), []byte("x")})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseBundle(data)
		if err != nil {
			return
		}
		if len(entries) < 1 || len(entries) > 256 {
			t.Fatalf("%d entries", len(entries))
		}
		again, err := MarshalBundle(entries)
		if err != nil {
			t.Fatalf("MarshalBundle of a parsed bundle: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatal("re-encoding differs")
		}
	})
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{
		"tile/0/000", "tile/0/000.p/1", "tile/1/x001/x234/067.p/255", "tile/entries/x001/000",
		"tile/entries/000.p/7", "tile/63/999", "tile/8/0/000", "tile/0/x000/001", "tile/0/000.p/256",
		"tile/0/x036/x028/x797/x018/x963/967", "tile/00/000", "tile/0/000.p/01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tile, entries, err := ParsePath(path)
		if err != nil {
			return
		}
		again := tile.Path()
		if entries {
			again = tile.EntriesPath()
			if tile.L != 0 {
				t.Fatalf("entry bundle with L=%d", tile.L)
			}
		}
		if again != path {
			t.Fatalf("ParsePath(%q) = %+v, which encodes as %q", path, tile, again)
		}
		if tile.L < 0 || tile.L > 63 || tile.N < 0 || tile.N > maxTileN || tile.W < 1 || tile.W > 256 {
			t.Fatalf("ParsePath(%q) = out-of-range %+v", path, tile)
		}
		// tlog parses the sumdb spelling of the same tile to the same values.
		sumdb := "tile/8/" + strings.TrimPrefix(path, "tile/")
		if entries {
			sumdb = "tile/8/data/" + strings.TrimPrefix(path, "tile/entries/")
		}
		tt, err := tlog.ParseTilePath(sumdb)
		if err != nil {
			t.Fatalf("tlog.ParseTilePath(%q): %v", sumdb, err)
		}
		wantL := tile.L
		if entries {
			wantL = -1
		}
		if tt.L != wantL || tt.N != tile.N || tt.W != tile.W {
			t.Fatalf("tlog parses %q as %+v, we parse %q as %+v", sumdb, tt, path, tile)
		}
		if _, err := ParseTilePath(path); (err == nil) == entries {
			t.Fatalf("ParseTilePath(%q) disagrees with ParsePath", path)
		}
		_ = fmt.Sprint(tile)
	})
}
