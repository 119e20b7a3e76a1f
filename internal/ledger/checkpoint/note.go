package checkpoint

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
)

// Signed-note signature types (c2sp.org/signed-note). The type is hashed
// into the key ID and is the first part of a verifier key's key material.
const (
	// SigTypeEd25519 is a plain Ed25519 note signature (the log's key).
	SigTypeEd25519 byte = 0x01
	// SigTypeCosignatureV1 is a timestamped Ed25519 witness cosignature
	// (c2sp.org/tlog-cosignature, "cosignature/v1").
	SigTypeCosignatureV1 byte = 0x04
	// SigTypeUnassigned is the byte the signed-note registry reserves for
	// types it has not assigned; it is followed by a longer identifier.
	SigTypeUnassigned byte = 0xff
)

// SM2SignatureType is the full signature type of the log's SM2 signatures
// in the gm profile: [SigTypeUnassigned] followed by an identifier under the
// project's own namespace, terminated by a newline. See the package
// documentation for why 0xff rather than an unassigned byte.
const SM2SignatureType = "\xff" + "github.com/shuzhi-gov/shuzhi/sm2" + "\n"

// maxSignatures is the number of signature lines golang.org/x/mod/sumdb/note
// accepts in a note; AddCosignatures refuses to produce more.
const maxSignatures = 100

// keyID computes SHA-256(name || "\n" || sigType || pub)[:4] as a big-endian
// uint32, the key ID recommended by c2sp.org/signed-note.
func keyID(name, sigType string, pub []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n'})
	h.Write([]byte(sigType))
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// formatVerifierKey returns "<name>+<hex key ID>+<base64(sigType || pub)>".
func formatVerifierKey(name string, hash uint32, sigType string, pub []byte) string {
	material := append([]byte(sigType), pub...)
	return fmt.Sprintf("%s+%08x+%s", name, hash, base64.StdEncoding.EncodeToString(material))
}

// validName is the signed-note key name rule: non-empty UTF-8 without
// Unicode spaces or plus signs.
func validName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

func checkName(name string) error {
	if !validName(name) {
		return fmt.Errorf("checkpoint: invalid key name %q (must be non-empty, without spaces or '+')", name)
	}
	return nil
}

// ed25519Key extracts the raw 32-byte key from an Ed25519 public key.
func ed25519Key(pub *crypto.PublicKey) (ed25519.PublicKey, error) {
	if pub == nil {
		return nil, errors.New("checkpoint: nil public key")
	}
	if pub.Algorithm() != crypto.AlgEd25519 {
		return nil, fmt.Errorf("checkpoint: want an Ed25519 key, have %s", pub)
	}
	k, err := x509.ParsePKIXPublicKey(pub.Bytes())
	if err != nil {
		return nil, fmt.Errorf("checkpoint: parse Ed25519 key: %w", err)
	}
	ed, ok := k.(ed25519.PublicKey)
	if !ok || len(ed) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("checkpoint: key %s is not a 32-byte Ed25519 key", pub)
	}
	return ed, nil
}

// logKeyMaterial returns the signature type and public key encoding of a log
// key: 0x01 and the raw key for Ed25519, SM2SignatureType and the PKIX DER
// for SM2.
func logKeyMaterial(pub *crypto.PublicKey) (sigType string, key []byte, err error) {
	if pub == nil {
		return "", nil, errors.New("checkpoint: nil public key")
	}
	switch pub.Algorithm() {
	case crypto.AlgEd25519:
		ed, err := ed25519Key(pub)
		if err != nil {
			return "", nil, err
		}
		return string([]byte{SigTypeEd25519}), ed, nil
	case crypto.AlgSM2:
		return SM2SignatureType, pub.Bytes(), nil
	}
	return "", nil, fmt.Errorf("checkpoint: unsupported key algorithm %q", pub.Algorithm())
}

// logSigner is a note.Signer for the log's Ed25519 or SM2 key.
type logSigner struct {
	name string
	hash uint32
	key  crypto.Signer
}

func (s *logSigner) Name() string                    { return s.name }
func (s *logSigner) KeyHash() uint32                 { return s.hash }
func (s *logSigner) Sign(msg []byte) ([]byte, error) { return s.key.Sign(msg) }

// NewSigner returns a note signer for a log key: Ed25519 (signature type
// 0x01, verifiable by any signed-note client) or SM2 (type
// [SM2SignatureType]). name must be the log's origin.
func NewSigner(name string, key crypto.Signer) (note.Signer, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("checkpoint: nil signer")
	}
	sigType, pub, err := logKeyMaterial(key.Public())
	if err != nil {
		return nil, err
	}
	return &logSigner{name: name, hash: keyID(name, sigType, pub), key: key}, nil
}

// LogSigners returns the note signers with which the log named origin signs
// its checkpoints under profile p: the Ed25519 key always, and the SM2 key
// too in the gm profile.
func LogSigners(origin string, p *crypto.Profile) ([]note.Signer, error) {
	if p == nil {
		return nil, errors.New("checkpoint: nil crypto profile")
	}
	ed, err := NewSigner(origin, p.Ed25519Signer())
	if err != nil {
		return nil, err
	}
	signers := []note.Signer{ed}
	if p.Signer().Algorithm() == crypto.AlgSM2 {
		sm, err := NewSigner(origin, p.Signer())
		if err != nil {
			return nil, err
		}
		signers = append(signers, sm)
	}
	return signers, nil
}

// VerifierKey returns the verifier key of a log key named name:
// "<name>+<key ID>+<base64(0x01 || key)>" for Ed25519 (accepted by
// golang.org/x/mod/sumdb/note.NewVerifier) or
// "<name>+<key ID>+<base64(SM2SignatureType || DER)>" for SM2 (accepted by
// [ParseVerifierKey]).
func VerifierKey(name string, pub *crypto.PublicKey) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	sigType, key, err := logKeyMaterial(pub)
	if err != nil {
		return "", err
	}
	return formatVerifierKey(name, keyID(name, sigType, key), sigType, key), nil
}

// verifier is a note.Verifier for a log key.
type verifier struct {
	name   string
	hash   uint32
	verify func(msg, sig []byte) bool
}

func (v *verifier) Name() string                { return v.name }
func (v *verifier) KeyHash() uint32             { return v.hash }
func (v *verifier) Verify(msg, sig []byte) bool { return v.verify(msg, sig) }

// NewVerifier returns a note verifier for a log key (Ed25519 or SM2) named
// name.
func NewVerifier(name string, pub *crypto.PublicKey) (note.Verifier, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	sigType, key, err := logKeyMaterial(pub)
	if err != nil {
		return nil, err
	}
	v := &verifier{name: name, hash: keyID(name, sigType, key)}
	if pub.Algorithm() == crypto.AlgEd25519 {
		ed := ed25519.PublicKey(key)
		v.verify = func(msg, sig []byte) bool { return ed25519.Verify(ed, msg, sig) }
	} else {
		v.verify = func(msg, sig []byte) bool { return crypto.Verify(pub, msg, sig) == nil }
	}
	return v, nil
}

// ParseVerifierKey parses a verifier key of any type this package produces:
// Ed25519 log keys (0x01, parsed by sumdb/note itself), SM2 log keys
// ([SM2SignatureType]) and witness cosignature keys (0x04, returned as a
// *[CosignatureVerifier]).
func ParseVerifierKey(vkey string) (note.Verifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	hash16, key64, ok2 := strings.Cut(rest, "+")
	hash, err1 := strconv.ParseUint(hash16, 16, 32)
	material, err2 := base64.StdEncoding.Strict().DecodeString(key64)
	if !ok1 || !ok2 || len(hash16) != 8 || err1 != nil || err2 != nil || !validName(name) || len(material) == 0 {
		return nil, fmt.Errorf("checkpoint: malformed verifier key %q", vkey)
	}
	var (
		sigType string
		v       note.Verifier
		err     error
	)
	switch {
	case material[0] == SigTypeEd25519:
		v, err = note.NewVerifier(vkey)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: verifier key %q: %w", vkey, err)
		}
		return v, nil
	case material[0] == SigTypeCosignatureV1:
		sigType = string(material[:1])
		if len(material) != 1+ed25519.PublicKeySize {
			return nil, fmt.Errorf("checkpoint: verifier key %q: cosignature key is %d bytes, want 32", vkey, len(material)-1)
		}
		v = newCosignatureVerifier(name, ed25519.PublicKey(bytes.Clone(material[1:])))
	case bytes.HasPrefix(material, []byte(SM2SignatureType)):
		sigType = SM2SignatureType
		pub, perr := crypto.ParsePublicKey(material[len(sigType):])
		if perr != nil || pub.Algorithm() != crypto.AlgSM2 {
			return nil, fmt.Errorf("checkpoint: verifier key %q: not an SM2 public key", vkey)
		}
		v, err = NewVerifier(name, pub)
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("checkpoint: verifier key %q: unknown signature type %#02x", vkey, material[0])
	}
	if uint32(hash) != keyID(name, sigType, material[len(sigType):]) || v.KeyHash() != uint32(hash) {
		return nil, fmt.Errorf("checkpoint: verifier key %q: key ID does not match the key", vkey)
	}
	return v, nil
}

// Sign returns cp as a signed note signed by each of signers (normally
// [LogSigners]: the log's Ed25519 key, and its SM2 key in the gm profile).
// It refuses a checkpoint that [Parse] would reject.
func Sign(cp Checkpoint, signers ...note.Signer) ([]byte, error) {
	if len(signers) == 0 {
		return nil, errors.New("checkpoint: sign: no signers")
	}
	text := cp.Marshal()
	if _, err := Parse(text); err != nil {
		return nil, fmt.Errorf("checkpoint: sign: %w", err)
	}
	signed, err := note.Sign(&note.Note{Text: string(text)}, signers...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: sign: %w", err)
	}
	return signed, nil
}

// Verify opens a signed checkpoint and requires a valid signature from every
// one of logVerifiers (in the gm profile: the log's Ed25519 and SM2 keys).
// Each log verifier's name must be the checkpoint's origin. Signature lines
// from other keys are ignored, as the signed-note spec requires.
func Verify(signedNote []byte, logVerifiers ...note.Verifier) (Checkpoint, error) {
	cp, _, err := open(signedNote, logVerifiers, nil)
	return cp, err
}

// Cosignature is a verified witness signature on a checkpoint.
type Cosignature struct {
	Name    string // witness key name
	KeyHash uint32 // witness key ID
	// Time is the cosignature's timestamp for cosignature/v1 (type 0x04)
	// signatures, and the zero time for other witness signature types.
	Time time.Time
}

// Open verifies a (possibly cosigned) checkpoint: the log's signature with
// logVerifier is required (and its name must be the origin); the signature
// lines of witnesses that verify are returned as cosignatures, in the order
// of witnesses. Unknown signature lines are ignored, but a line from a known
// key (log or witness) that fails to verify fails the whole note, per the
// signed-note spec. Callers enforce their own quorum on the result.
func Open(signedNote []byte, logVerifier note.Verifier, witnesses []note.Verifier) (Checkpoint, []Cosignature, error) {
	if logVerifier == nil {
		return Checkpoint{}, nil, errors.New("checkpoint: open: nil log verifier")
	}
	return open(signedNote, []note.Verifier{logVerifier}, witnesses)
}

type nameHash struct {
	name string
	hash uint32
}

func open(signedNote []byte, logVerifiers, witnesses []note.Verifier) (Checkpoint, []Cosignature, error) {
	if len(logVerifiers) == 0 {
		return Checkpoint{}, nil, errors.New("checkpoint: open: no log verifiers")
	}
	all := make([]note.Verifier, 0, len(logVerifiers)+len(witnesses))
	for _, v := range append(logVerifiers[:len(logVerifiers):len(logVerifiers)], witnesses...) {
		if v == nil {
			return Checkpoint{}, nil, errors.New("checkpoint: open: nil verifier")
		}
		all = append(all, v)
	}
	n, err := note.Open(signedNote, note.VerifierList(all...))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("checkpoint: open: %w", err)
	}
	cp, err := Parse([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("checkpoint: open: %w", err)
	}
	verified := make(map[nameHash]note.Signature, len(n.Sigs))
	for _, s := range n.Sigs {
		verified[nameHash{s.Name, s.Hash}] = s
	}
	for _, v := range logVerifiers {
		if v.Name() != cp.Origin {
			return Checkpoint{}, nil, fmt.Errorf("checkpoint: open: log key %s+%08x does not match origin %q", v.Name(), v.KeyHash(), cp.Origin)
		}
		if _, ok := verified[nameHash{v.Name(), v.KeyHash()}]; !ok {
			return Checkpoint{}, nil, fmt.Errorf("checkpoint: open: no signature from log key %s+%08x", v.Name(), v.KeyHash())
		}
	}
	var cosigs []Cosignature
	for _, w := range witnesses {
		s, ok := verified[nameHash{w.Name(), w.KeyHash()}]
		if !ok {
			continue
		}
		c := Cosignature{Name: s.Name, KeyHash: s.Hash}
		if _, isCosig := w.(*CosignatureVerifier); isCosig {
			if c.Time, err = CosignatureTime(s); err != nil {
				return Checkpoint{}, nil, err
			}
		}
		cosigs = append(cosigs, c)
	}
	return cp, cosigs, nil
}

// AddCosignatures returns signedNote with the witness signature lines
// sigLines added, for publishing a cosigned checkpoint. It does not verify
// signatures (verify cosignatures with [Open] or the witness's
// [CosignatureVerifier] before publishing). The result keeps the log's own
// lines (those named after the origin) first, in their order, followed by
// all other lines sorted by key name and key ID, with one line per (name,
// key ID): an existing line wins over a new one. Adding the same lines again
// returns the same bytes. Lines named after the origin, lines whose key ID
// does not match their signature, and notes without a log line are refused.
func AddCosignatures(signedNote []byte, sigLines ...note.Signature) ([]byte, error) {
	text, sigs, err := splitNote(signedNote)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: add cosignatures: %w", err)
	}
	cp, err := Parse([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: add cosignatures: %w", err)
	}
	for _, s := range sigLines {
		if err := checkSignature(s); err != nil {
			return nil, fmt.Errorf("checkpoint: add cosignatures: %w", err)
		}
		if s.Name == cp.Origin {
			return nil, fmt.Errorf("checkpoint: add cosignatures: signature line named after the log's origin %q is not a cosignature", s.Name)
		}
	}
	var logLines, others []note.Signature
	seen := make(map[nameHash]bool)
	for _, s := range append(sigs, sigLines...) {
		k := nameHash{s.Name, s.Hash}
		if seen[k] {
			continue
		}
		seen[k] = true
		if s.Name == cp.Origin {
			logLines = append(logLines, s)
		} else {
			others = append(others, s)
		}
	}
	if len(logLines) == 0 {
		return nil, fmt.Errorf("checkpoint: add cosignatures: note has no signature named after the origin %q", cp.Origin)
	}
	if len(logLines)+len(others) > maxSignatures {
		return nil, fmt.Errorf("checkpoint: add cosignatures: %d signature lines, more than the %d clients accept", len(logLines)+len(others), maxSignatures)
	}
	sortSignatures(others)

	var b bytes.Buffer
	b.WriteString(text)
	b.WriteByte('\n')
	for _, s := range append(logLines, others...) {
		b.WriteString("— ")
		b.WriteString(s.Name)
		b.WriteByte(' ')
		b.WriteString(s.Base64)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

func sortSignatures(s []note.Signature) {
	slices.SortStableFunc(s, func(a, b note.Signature) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Hash, b.Hash)
	})
}

// checkSignature validates a signature line's fields: a valid name, and
// standard base64 of at least five bytes whose first four are the key ID.
func checkSignature(s note.Signature) error {
	if !validName(s.Name) {
		return fmt.Errorf("invalid signature key name %q", s.Name)
	}
	raw, err := base64.StdEncoding.DecodeString(s.Base64)
	if err != nil || len(raw) < 5 {
		return fmt.Errorf("malformed signature from %s: not base64 of key ID and signature", s.Name)
	}
	if binary.BigEndian.Uint32(raw) != s.Hash {
		return fmt.Errorf("signature from %s: key ID %08x does not match its signature's %08x", s.Name, s.Hash, binary.BigEndian.Uint32(raw))
	}
	return nil
}

// splitNote parses a signed note without verifying it: the text (ending in
// a newline) and its signature lines in order.
func splitNote(msg []byte) (string, []note.Signature, error) {
	if !utf8.Valid(msg) {
		return "", nil, errors.New("malformed note: not valid UTF-8")
	}
	for _, b := range msg {
		if b < 0x20 && b != '\n' {
			return "", nil, fmt.Errorf("malformed note: control character %#02x", b)
		}
	}
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 {
		return "", nil, errors.New("malformed note: no blank line before the signatures")
	}
	text, rest := msg[:split+1], msg[split+2:]
	if len(rest) == 0 || rest[len(rest)-1] != '\n' {
		return "", nil, errors.New("malformed note: no signature lines")
	}
	var sigs []note.Signature
	for _, line := range strings.Split(string(rest[:len(rest)-1]), "\n") {
		body, ok := strings.CutPrefix(line, "— ")
		if !ok {
			return "", nil, fmt.Errorf("malformed note: signature line %q does not start with an em dash and a space", line)
		}
		name, b64, _ := strings.Cut(body, " ")
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || !validName(name) || len(raw) < 5 {
			return "", nil, fmt.Errorf("malformed note: bad signature line %q", line)
		}
		sigs = append(sigs, note.Signature{Name: name, Hash: binary.BigEndian.Uint32(raw), Base64: b64})
	}
	return string(text), sigs, nil
}
