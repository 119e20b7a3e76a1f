package merkle

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxEntrySize is the largest entry an entry bundle can hold (its length is
// a big-endian uint16).
const MaxEntrySize = 1<<16 - 1

// MarshalBundle encodes a C2SP tlog-tiles entry bundle: each entry as a
// big-endian uint16 length followed by its bytes. A bundle has 1 to 256
// entries; entry bundle N holds records 256*N onwards.
func MarshalBundle(entries [][]byte) ([]byte, error) {
	if len(entries) == 0 || len(entries) > TileWidth {
		return nil, fmt.Errorf("merkle: an entry bundle has 1 to %d entries, not %d", TileWidth, len(entries))
	}
	size := 0
	for i, e := range entries {
		if len(e) > MaxEntrySize {
			return nil, fmt.Errorf("merkle: entry %d is %d bytes, more than %d", i, len(e), MaxEntrySize)
		}
		size += 2 + len(e)
	}
	b := make([]byte, 0, size)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
		b = append(b, e...)
	}
	return b, nil
}

var errBundle = errors.New("merkle: malformed entry bundle")

// ParseBundle decodes an entry bundle. It rejects an empty bundle, more than
// 256 entries, and a truncated length or entry. The entries alias b (with
// their capacity cut, so appending to one does not overwrite the next).
func ParseBundle(b []byte) ([][]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", errBundle)
	}
	var entries [][]byte
	for len(b) > 0 {
		if len(entries) == TileWidth {
			return nil, fmt.Errorf("%w: more than %d entries", errBundle, TileWidth)
		}
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: truncated length of entry %d", errBundle, len(entries))
		}
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if len(b) < n {
			return nil, fmt.Errorf("%w: entry %d is %d bytes, only %d left", errBundle, len(entries), n, len(b))
		}
		entries = append(entries, b[:n:n])
		b = b[n:]
	}
	return entries, nil
}
