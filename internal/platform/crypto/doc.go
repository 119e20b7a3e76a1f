// Package crypto is Shuzhi's single entry point for signatures, hashing,
// field-level encryption, password hashing and random tokens.
//
// # Profiles
//
// The algorithms are chosen once, in configuration, by profile name:
//
//	profile  signature             hash     field encryption  blind index
//	"intl"   Ed25519               SHA-256  AES-256-GCM       HMAC-SHA256
//	"gm"     SM2 (GB/T 32918.2)    SM3      SM4-GCM           HMAC-SM3
//
// In the gm (国密) profile SM2 signatures use the default user ID
// "1234567812345678" and the SM3 digest of Z_A || M (GB/T 32918.2, GM/T 0009);
// signatures are ASN.1 DER SEQUENCE{r, s}, verifiable with gmsm's
// sm2.VerifyASN1WithSM2(pub, nil, msg, sig) or OpenSSL. Both profiles also
// hold an Ed25519 key (see [Profile.Ed25519Signer]); in intl it is the
// signing key itself, in gm it is a second key (the ledger signs checkpoints
// with Ed25519 always, plus SM2 in gm).
//
// Callers see one API whatever the profile:
//
//	p, err := crypto.LoadOrCreate(cfg.KeyDir, cfg.CryptoProfile, crypto.KeyFiles{})
//	sig, err := p.Signer().Sign(msg)
//	err = crypto.Verify(p.Signer().Public(), msg, sig)
//	ct, err := p.Fields().Encrypt([]byte(idNumber), []byte("users.id_number"))
//	idx := p.Fields().Blind([]byte(idNumber)) // store next to ct, query by equality
//
// A [Profile] is immutable and safe for concurrent use.
//
// # Key files
//
// [LoadOrCreate] keeps keys in a directory (created with mode 0700). On first
// start it generates the missing files (mode 0600), and reloads them on every
// later start:
//
//	ed25519.pem  Ed25519 private key, PEM "PRIVATE KEY" (PKCS#8). Both profiles.
//	sm2.pem      SM2 private key, PEM "PRIVATE KEY" (PKCS#8). gm profile only.
//	field.key    32-byte field master key, standard base64 and a newline.
//
// Switching a deployment from intl to gm keeps ed25519.pem and field.key and
// adds sm2.pem. Data encrypted under one profile cannot be decrypted under the
// other (the algorithm tag is checked), and blind indexes differ: switching
// profile requires re-encrypting and re-indexing stored fields.
//
// field.key is always written first. If ed25519.pem or sm2.pem are in the
// key directory but field.key is not, LoadOrCreate refuses to start rather
// than generate a new field key: data encrypted under the lost key would
// silently become unreadable. Restore the file, remove all key files to start
// afresh, or (if an operator placed the signing keys there) create field.key
// as shown below.
//
// Every key file read (generated or operator-supplied) must be a regular file
// with no permission bits for group or others (mode 0600 or 0400); otherwise
// loading fails with an error naming the file, its mode and the rule. The
// check follows symlinks, so for a Kubernetes secret set defaultMode: 0400.
// The check is skipped on Windows.
//
// # Operator-supplied keys
//
// [KeyFiles] names files to use instead of the generated ones (e.g. keys
// kept in a secrets manager). A named file must exist; it is never generated.
// Accepted private key formats (PEM, unencrypted):
//
//   - "PRIVATE KEY": PKCS#8, Ed25519 or SM2 (id-ecPublicKey with the SM2 curve
//     OID 1.2.156.10197.1.301, as OpenSSL 3 and gmsm write it);
//   - "EC PRIVATE KEY" or "SM2 PRIVATE KEY": SEC 1 SM2 key (OpenSSL 1.1 and
//     "openssl ec" output).
//
// "EC PARAMETERS" / "SM2 PARAMETERS" blocks are skipped. Encrypted keys
// ("ENCRYPTED PRIVATE KEY") are refused: decrypt them first with
// "openssl pkcs8 -in enc.pem -out key.pem" and protect the file instead.
// Generate keys with:
//
//	openssl genpkey -algorithm ed25519 -out ed25519.pem
//	openssl genpkey -algorithm SM2 -out sm2.pem               # OpenSSL 3
//	openssl ecparam -name SM2 -genkey -out sm2.pem            # also accepted
//	openssl rand -base64 32 > field.key                       # or: head -c 32 /dev/urandom > field.key
//	chmod 600 ed25519.pem sm2.pem field.key
//
// or in Go with gmsm: sm2.GenerateKey(rand.Reader) and
// smx509.MarshalPKCS8PrivateKey(&key.PrivateKey), PEM type "PRIVATE KEY".
// The field key file holds either exactly 32 raw bytes, or their base64
// encoding (standard or URL alphabet, padding optional, surrounding
// whitespace ignored).
//
// # Public keys and key IDs
//
// [PublicKey] marshals to PKIX DER ("PUBLIC KEY" in PEM) and back. Its ID is
// the lowercase hex of the first 8 bytes of SHA-256(DER) for both algorithms:
// an identifier, not a security function, kept the same across profiles so
// that IDs recorded by one deployment stay stable.
//
// # Field encryption
//
// Ciphertext layout: tag (1 byte) || nonce (12 bytes, random) || GCM
// ciphertext || GCM tag (16 bytes). Tag 0x01 is AES-256-GCM, 0x02 is SM4-GCM.
// The GCM additional data is the tag byte followed by the caller's associated
// data, so bind ciphertexts to their place (e.g. "table.column" plus the row
// ID) to stop them being swapped. The encryption key and the blind-index key
// are derived from the master key with HKDF (HKDF-SHA256 in intl, HKDF-SM3 in
// gm) under distinct labels. With random 96-bit nonces one key must not
// encrypt more than 2^32 values.
//
// Blind indexes are a deterministic HMAC of the value: equal values give equal
// indexes, which is what makes lookup possible and also what leaks equality.
// Normalise values first (e.g. upper-case the final X of an ID number).
//
// # Passwords
//
// [HashPassword] uses argon2id with the OWASP Password Storage Cheat Sheet
// minimum parameters m=19456 KiB, t=2, p=1 (about 19 MiB and a few tens of
// milliseconds per hash), chosen over m=64 MiB so that a burst of logins
// cannot exhaust memory; salt 16 bytes, key 32 bytes. The result is a PHC
// string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard
// base64). [VerifyPassword] accepts other parameters (within limits) and
// reports needsRehash when they differ from the current ones.
package crypto
