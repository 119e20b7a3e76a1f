// Package checkpoint implements the ledger's signed tree heads: C2SP
// tlog-checkpoint bodies, signed-note signatures by the log, C2SP
// tlog-cosignature witness cosignatures, and the witness's append-only check.
//
// # Checkpoints
//
// A [Checkpoint] is the note text of c2sp.org/tlog-checkpoint:
//
//	<origin>\n<tree size, decimal>\n<base64 root hash>\n[<extension line>\n]...
//
// The root is the 32-byte RFC 6962 tree hash (SHA-256 in the intl profile,
// SM3 in gm); this package does not hash and does not care which.
//
// # Log signatures
//
// The log signs every checkpoint with its Ed25519 key (signed-note type
// 0x01), so that any C2SP client, including golang.org/x/mod/sumdb/note, can
// verify it with the log's standard verifier key
//
//	<origin>+<8 hex digits key ID>+<base64(0x01 || 32-byte Ed25519 key)>
//
// In the gm (国密) profile the log adds a second signature line, with the same
// key name, made with its SM2 key ([LogSigners] does both). The SM2 line uses
// signature type [SM2SignatureType]: byte 0xff followed by the identifier
// "github.com/shuzhi-gov/shuzhi/sm2" and a newline. c2sp.org/signed-note
// reserves 0xff for "signature types without an identifier byte assigned by
// this specification" and recommends following it with a longer identifier
// that is unlikely to collide; an arbitrary unassigned byte (say 0x99) could
// later be assigned by the registry to something else, as 0x02 to 0x06 were
// over time.
// The key ID and verifier key follow the usual rule with that type string and
// the SM2 key's PKIX DER encoding:
//
//	key ID = SHA-256(name || 0x0A || 0xff || "github.com/shuzhi-gov/shuzhi/sm2\n" || DER)[:4]
//	vkey   = <origin>+<key ID hex>+<base64(0xff || "github.com/shuzhi-gov/shuzhi/sm2\n" || DER)>
//
// The signature is the ASN.1 DER SM2 signature (SM3, default user ID) of the
// note text. Signature lines carry no type byte, only the key ID, so clients
// that do not know the SM2 key ignore the line as the signed-note spec
// requires; only a verifier key of this type is meaningless to them
// (sumdb/note's NewVerifier refuses every type but 0x01).
//
// # Cosignatures
//
// Witnesses cosign with Ed25519 per c2sp.org/tlog-cosignature (type 0x04,
// "cosignature/v1"): the signed message is
//
//	cosignature/v1\ntime <unix seconds>\n<checkpoint body>
//
// and the signature line carries key ID || 8-byte big-endian timestamp ||
// 64-byte signature. Witness verifier keys are
//
//	<witness name>+<key ID hex>+<base64(0x04 || 32-byte Ed25519 key)>
//
// A witness uses [Cosigner.Cosign] after [Witness.Check] accepted the
// checkpoint; the log merges returned lines with [AddCosignatures] and
// clients check them with [Open].
//
// # Witness
//
// [Witness] is the pure state machine of a witness for one log: it holds
// the last checkpoint it accepted and refuses rollbacks, split views and
// unproven growth. The consistency proof check is supplied by the caller
// ([ConsistencyVerifier]), so this package depends on neither the Merkle
// code nor the hash algorithm.
package checkpoint
