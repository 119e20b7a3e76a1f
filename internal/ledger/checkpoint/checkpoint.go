package checkpoint

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// HashSize is the size of a tree hash (SHA-256 or SM3).
const HashSize = 32

// ErrMalformed is wrapped by every error [Parse] returns.
var ErrMalformed = errors.New("checkpoint: malformed checkpoint")

// Checkpoint is the body of a C2SP tlog-checkpoint: the log's origin, the
// tree size and the RFC 6962 root hash at that size, plus optional opaque
// extension lines (each non-empty, without newline).
type Checkpoint struct {
	Origin     string
	Size       uint64
	Root       [HashSize]byte
	Extensions []string
}

// Marshal returns the note text of c: origin, size and base64 root, each
// followed by a newline, then each extension line and a newline. It does
// not validate c; [Sign] does (a checkpoint that Parse would reject is not
// signed).
func (c Checkpoint) Marshal() []byte {
	n := len(c.Origin) + 20 + base64.StdEncoding.EncodedLen(HashSize) + 3
	for _, e := range c.Extensions {
		n += len(e) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, c.Origin...)
	b = append(b, '\n')
	b = strconv.AppendUint(b, c.Size, 10)
	b = append(b, '\n')
	b = base64.StdEncoding.AppendEncode(b, c.Root[:])
	b = append(b, '\n')
	for _, e := range c.Extensions {
		b = append(b, e...)
		b = append(b, '\n')
	}
	return b
}

// String returns "<origin>@<size>:<base64 root>", for logs and messages.
func (c Checkpoint) String() string {
	return fmt.Sprintf("%s@%d:%s", c.Origin, c.Size, encodeRoot(c.Root))
}

// Equal reports whether c and o are the same checkpoint, extension lines
// included.
func (c Checkpoint) Equal(o Checkpoint) bool {
	if c.Origin != o.Origin || c.Size != o.Size || c.Root != o.Root || len(c.Extensions) != len(o.Extensions) {
		return false
	}
	for i := range c.Extensions {
		if c.Extensions[i] != o.Extensions[i] {
			return false
		}
	}
	return true
}

// Parse parses checkpoint note text strictly: valid UTF-8 without control
// characters other than newline, ending in a newline; a non-empty origin
// line; a decimal size without sign or leading zeros (except "0") that fits
// in 64 bits; a root of standard padded base64 decoding to exactly 32 bytes
// (canonical encoding only); and non-empty extension lines. The returned
// error wraps [ErrMalformed].
func Parse(text []byte) (Checkpoint, error) {
	var c Checkpoint
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return c, fmt.Errorf("%w: text must end with a newline", ErrMalformed)
	}
	if err := checkText(text); err != nil {
		return c, err
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return c, fmt.Errorf("%w: want at least 3 lines (origin, size, root), have %d", ErrMalformed, len(lines))
	}
	if lines[0] == "" {
		return c, fmt.Errorf("%w: empty origin line", ErrMalformed)
	}
	c.Origin = lines[0]

	size, err := parseSize(lines[1])
	if err != nil {
		return Checkpoint{}, err
	}
	c.Size = size

	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: root hash line %q is not standard base64: %v", ErrMalformed, lines[2], err)
	}
	if len(root) != HashSize {
		return Checkpoint{}, fmt.Errorf("%w: root hash is %d bytes, want %d", ErrMalformed, len(root), HashSize)
	}
	copy(c.Root[:], root)

	for i, e := range lines[3:] {
		if e == "" {
			return Checkpoint{}, fmt.Errorf("%w: extension line %d is empty", ErrMalformed, i+1)
		}
	}
	if len(lines) > 3 {
		c.Extensions = lines[3:]
	}
	return c, nil
}

func parseSize(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty tree size line", ErrMalformed)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: tree size %q is not a decimal number", ErrMalformed, s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%w: tree size %q has leading zeros", ErrMalformed, s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: tree size %q does not fit in 64 bits", ErrMalformed, s)
	}
	return n, nil
}

// checkText enforces the signed-note rule: valid UTF-8 and no ASCII control
// characters other than newline.
func checkText(text []byte) error {
	if !utf8.Valid(text) {
		return fmt.Errorf("%w: text is not valid UTF-8", ErrMalformed)
	}
	for _, b := range text {
		if b < 0x20 && b != '\n' {
			return fmt.Errorf("%w: text contains control character %#02x", ErrMalformed, b)
		}
	}
	return nil
}

func encodeRoot(r [HashSize]byte) string { return base64.StdEncoding.EncodeToString(r[:]) }
