package crypto

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// File names inside the key directory.
const (
	FileEd25519 = "ed25519.pem"
	FileSM2     = "sm2.pem"
	FileField   = "field.key"
)

// maxKeyFileSize bounds what is read from a key file.
const maxKeyFileSize = 64 << 10

// KeyFiles optionally names operator-supplied key files used instead of the
// generated files in the key directory. Empty fields mean "use keyDir". A
// named file must exist; it is never created. See the package documentation
// for the accepted formats.
type KeyFiles struct {
	// Signing is the profile's signing key: Ed25519 in intl, SM2 in gm.
	Signing string
	// Ed25519 is the Ed25519 key. In gm it is the second (ledger) key; in
	// intl it is the signing key, so set Signing or Ed25519, not both.
	Ed25519 string
	// Field is the 32-byte field master key file.
	Field string
}

// keyFile is one key file to load, or generate if it is missing.
type keyFile struct {
	path     string
	supplied bool // operator-supplied: must exist
}

// LoadOrCreate returns the profile ("intl" or "gm") with its keys loaded
// from keyDir, generating missing ones there on first start, or from the
// operator-supplied files named in files. keyDir may be empty only if files
// names every key the profile needs.
func LoadOrCreate(keyDir, profile string, files KeyFiles) (*Profile, error) {
	if err := checkProfile(profile); err != nil {
		return nil, err
	}
	in := func(name, supplied string) keyFile {
		if supplied != "" {
			return keyFile{path: supplied, supplied: true}
		}
		return keyFile{path: filepath.Join(keyDir, name)}
	}
	edFile := in(FileEd25519, files.Ed25519)
	var sm2File keyFile
	if profile == ProfileIntl {
		if files.Signing != "" && files.Ed25519 != "" && files.Signing != files.Ed25519 {
			return nil, errors.New("crypto: profile intl signs with its Ed25519 key: set KeyFiles.Signing or KeyFiles.Ed25519, not two different files")
		}
		if files.Signing != "" {
			edFile = keyFile{path: files.Signing, supplied: true}
		}
	} else {
		sm2File = in(FileSM2, files.Signing)
	}
	fieldFile := in(FileField, files.Field)

	need := []keyFile{edFile, fieldFile}
	if profile == ProfileGM {
		need = append(need, sm2File)
	}
	for _, f := range need {
		if !f.supplied {
			if keyDir == "" {
				return nil, errors.New("crypto: no key directory configured and not every key file is supplied")
			}
			if err := os.MkdirAll(keyDir, 0o700); err != nil {
				return nil, fmt.Errorf("crypto: create key directory: %w", err)
			}
			break
		}
	}

	// Never generate a fresh field key next to signing keys in the key
	// directory: field.key is always written first, so it was lost or moved,
	// and a new one would orphan the data encrypted under the old one.
	if !fieldFile.supplied {
		if _, err := os.Stat(fieldFile.path); errors.Is(err, fs.ErrNotExist) {
			for _, f := range []keyFile{edFile, sm2File} {
				if f.path == "" || f.supplied {
					continue
				}
				if _, err := os.Stat(f.path); err == nil {
					return nil, fmt.Errorf("crypto: %s is missing but %s exists: refusing to generate a new field key, "+
						"which would make data encrypted under the old one unreadable; restore %s, or remove the key files in %s to start afresh "+
						"(if you placed the signing keys there yourself, create the field key too: openssl rand -base64 32 > %s; chmod 600 %s)",
						fieldFile.path, f.path, FileField, keyDir, fieldFile.path, fieldFile.path)
				}
			}
		}
	}

	fresh, err := generateKeys(profile)
	if err != nil {
		return nil, err
	}
	var k keys
	if k.field, err = loadOrStore(fieldFile, parseFieldKey,
		[]byte(base64.StdEncoding.EncodeToString(fresh.field)+"\n")); err != nil {
		return nil, err
	}
	if k.ed, err = loadOrStore(edFile, parseEd25519PEM, mustPKCS8PEM(fresh.ed)); err != nil {
		return nil, err
	}
	if profile == ProfileGM {
		if k.sm2, err = loadOrStore(sm2File, parseSM2PEM, mustPKCS8PEM(fresh.sm2)); err != nil {
			return nil, err
		}
	}
	return newProfile(profile, k)
}

// loadOrStore loads f with parse, or, if f is missing and not
// operator-supplied, writes content to it (mode 0600, never overwriting) and
// parses that.
func loadOrStore[T any](f keyFile, parse func([]byte) (T, error), content []byte) (T, error) {
	var zero T
	data, err := readKeyFile(f.path)
	if errors.Is(err, fs.ErrNotExist) && !f.supplied {
		if err = writeKeyFile(f.path, content); errors.Is(err, fs.ErrExist) {
			data, err = readKeyFile(f.path) // created concurrently by another process
		} else if err == nil {
			data = content
		}
	}
	if err != nil {
		return zero, err
	}
	key, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("crypto: key file %s: %w", f.path, err)
	}
	return key, nil
}

// readKeyFile reads a key file after checking that it is a regular file
// that group and others cannot access.
func readKeyFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("crypto: key file %s does not exist: %w", path, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("crypto: open key file: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("crypto: stat key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("crypto: key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("crypto: key file %s has mode %04o: key files must not be accessible by group or others "+
			"(mode 0600 or 0400); run: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("crypto: read key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("crypto: key file %s is larger than %d bytes", path, maxKeyFileSize)
	}
	return data, nil
}

// writeKeyFile creates path with mode 0600 and content; it fails with
// fs.ErrExist if path already exists.
func writeKeyFile(path string, content []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("crypto: create key file: %w", err)
	}
	_, err = fh.Write(content)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("crypto: write key file %s: %w", path, err)
	}
	return nil
}

func mustPKCS8PEM(key any) []byte {
	der, err := smx509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic("crypto: marshal generated key: " + err.Error()) // cannot happen for generated keys
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// parseFieldKey accepts exactly 32 raw bytes, or their base64 encoding
// (standard or URL alphabet, padding optional, surrounding whitespace).
func parseFieldKey(data []byte) ([]byte, error) {
	if len(data) == FieldKeySize {
		return bytes.Clone(data), nil
	}
	s := string(bytes.TrimRight(bytes.TrimSpace(data), "="))
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != FieldKeySize {
				return nil, fmt.Errorf("field key decodes to %d bytes, want %d", len(key), FieldKeySize)
			}
			return key, nil
		}
	}
	return nil, fmt.Errorf("field key is neither %d raw bytes nor base64 of them", FieldKeySize)
}

// parsePrivateKeyPEM returns the first private key in data, skipping
// parameter blocks.
func parsePrivateKeyPEM(data []byte) (any, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New(`no PEM "PRIVATE KEY" block`)
		}
		switch block.Type {
		case "PRIVATE KEY":
			return smx509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY", "SM2 PRIVATE KEY":
			return smx509.ParseTypedECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("encrypted private keys are not supported: decrypt with 'openssl pkcs8 -in KEY -out KEY.pem' and protect the file by its mode")
		case "EC PARAMETERS", "SM2 PARAMETERS":
			continue
		default:
			return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
		}
	}
}

func parseEd25519PEM(data []byte) (ed25519.PrivateKey, error) {
	key, err := parsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	k, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("want an Ed25519 private key, found %s", keyKind(key))
	}
	return k, nil
}

func parseSM2PEM(data []byte) (*sm2.PrivateKey, error) {
	key, err := parsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	k, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("want an SM2 private key, found %s", keyKind(key))
	}
	return k, nil
}

func keyKind(key any) string {
	switch key.(type) {
	case ed25519.PrivateKey:
		return "an Ed25519 key"
	case *sm2.PrivateKey:
		return "an SM2 key"
	default:
		return fmt.Sprintf("%T", key)
	}
}
