package exchange

import (
	"strconv"
	"unicode/utf8"
)

// canonical encodes an access body as its leaf data: the bytes
// encoding/json gives for accessBody without HTML escaping (members in the
// struct's order, which is lexicographic; omitempty as tagged), written
// directly. encoding/json took ~2 µs and two allocations per record, a few
// per cent of a governed lookup (docs/PERFORMANCE.md, "Exchange", session
// 12); TestCanonicalMatchesJSON and FuzzCanonical hold the two equal.
func canonical(b *accessBody) []byte {
	// Member names and punctuation take ~220 bytes; the values as long as
	// they are (escapes are rare).
	size := 256 + len(b.ActorID) + len(b.ActorKind) + len(b.ActorName) + len(b.Basis) + len(b.ConsumerName) + len(b.ConsumerNode) +
		len(b.ConsumerOrg) + len(b.Grant) + len(b.ID) + len(b.Node) + len(b.Outcome) + len(b.Purpose) + len(b.Reason) +
		len(b.Resource) + len(b.ResourceID) + len(b.ResourceName)
	for _, ss := range [...][]string{b.Clear, b.Fields, b.Subjects} {
		for _, s := range ss {
			size += len(s) + 3
		}
	}
	dst := make([]byte, 0, size)
	dst = append(dst, `{"actorId":`...)
	dst = appendJSONString(dst, b.ActorID)
	dst = append(dst, `,"actorKind":`...)
	dst = appendJSONString(dst, b.ActorKind)
	dst = append(dst, `,"actorName":`...)
	dst = appendJSONString(dst, b.ActorName)
	dst = append(dst, `,"at":`...)
	dst = strconv.AppendInt(dst, b.At, 10)
	dst = appendOptString(dst, `,"basis":`, b.Basis)
	dst = appendOptStrings(dst, `,"clear":`, b.Clear)
	dst = append(dst, `,"consumerName":`...)
	dst = appendJSONString(dst, b.ConsumerName)
	dst = appendOptString(dst, `,"consumerNode":`, b.ConsumerNode)
	dst = append(dst, `,"consumerOrg":`...)
	dst = appendJSONString(dst, b.ConsumerOrg)
	dst = append(dst, `,"fields":`...)
	dst = appendJSONStrings(dst, b.Fields)
	dst = appendOptString(dst, `,"grant":`, b.Grant)
	dst = append(dst, `,"id":`...)
	dst = appendJSONString(dst, b.ID)
	dst = appendOptString(dst, `,"node":`, b.Node)
	dst = append(dst, `,"outcome":`...)
	dst = appendJSONString(dst, b.Outcome)
	dst = appendOptString(dst, `,"purpose":`, b.Purpose)
	dst = appendOptString(dst, `,"reason":`, b.Reason)
	dst = append(dst, `,"records":`...)
	dst = strconv.AppendInt(dst, int64(b.Records), 10)
	dst = append(dst, `,"resource":`...)
	dst = appendJSONString(dst, b.Resource)
	dst = append(dst, `,"resourceId":`...)
	dst = appendJSONString(dst, b.ResourceID)
	dst = append(dst, `,"resourceName":`...)
	dst = appendJSONString(dst, b.ResourceName)
	dst = appendOptStrings(dst, `,"subjects":`, b.Subjects)
	return append(dst, '}')
}

// appendOptString appends member and s unless s is empty (omitempty).
func appendOptString(dst []byte, member, s string) []byte {
	if s == "" {
		return dst
	}
	return appendJSONString(append(dst, member...), s)
}

// appendOptStrings appends member and ss unless ss is empty (omitempty).
func appendOptStrings(dst []byte, member string, ss []string) []byte {
	if len(ss) == 0 {
		return dst
	}
	return appendJSONStrings(append(dst, member...), ss)
}

// appendJSONStrings appends ss as a JSON array (null when nil, as
// encoding/json does).
func appendJSONStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

// jsonSafe marks the bytes that stand for themselves in a JSON string of
// valid UTF-8: all but the control characters, '"', '\\' and E2 (which
// starts U+2028 and U+2029, and other characters).
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\' && c != 0xE2
	}
	return t
}()

// appendJSONString appends s as a JSON string exactly as encoding/json does
// without HTML escaping: '"' and '\\' escaped, the control characters as
// \b \f \n \r \t or \u00XX, invalid UTF-8 as \ufffd, and U+2028 and U+2029
// as \u2028 and \u2029; everything else as it is. Valid UTF-8 (nearly
// always) is copied byte by byte through jsonSafe; only a string that is not
// is decoded rune by rune.
func appendJSONString(dst []byte, s string) []byte {
	valid := utf8.ValidString(s)
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] && (valid || c < utf8.RuneSelf) {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = appendJSONEscape(append(dst, s[start:i]...), c)
			i++
			start = i
			continue
		}
		// E2 in valid UTF-8, or any multi-byte character in invalid UTF-8.
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', jsonHex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const jsonHex = "0123456789abcdef"

// appendJSONEscape appends the escape of an ASCII byte that needs one.
func appendJSONEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xF])
}
