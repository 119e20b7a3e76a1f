// Package merkle is the hash-agnostic Merkle-tree math behind the ledger:
// RFC 6962 / RFC 9162 hashing (leaf = H(0x00 || data), node =
// H(0x01 || left || right)) with SHA-256 (international profile) or SM3
// (国密 profile), the stored-hash layout of golang.org/x/mod/sumdb/tlog,
// inclusion and consistency proofs, an incremental tree builder for the
// sequencer, C2SP tlog-tiles hash tiles and entry bundles.
//
// # Stored hashes
//
// The tree is kept as "stored hashes" numbered exactly as tlog numbers them:
// when record n is appended, its leaf hash and every complete subtree it
// closes (one per trailing 1-bit of n) are stored, at consecutive indexes
// starting at StoredHashIndex(0, n). StoredHashIndex(level, k) is the index of
// the hash of the k-th subtree of 2^level leaves. With SHA256 every function
// here returns byte for byte what tlog returns; with SM3 the layout, the
// proofs and the tiles are identical in shape, only the hash differs.
//
// # Tiles
//
// C2SP tlog-tiles store the tree as tiles of height 8: tile (L, N) holds up
// to 256 consecutive hashes of tree level 8*L, starting at position 256*N.
// Only tile levels are kept (tree levels 0, 8, 16, ...); every other stored
// hash is recomputed from at most 128 hashes of the tile below
// (HashesFromTiles). Paths are "tile/<L>/<N>[.p/<W>]" and
// "tile/entries/<N>[.p/<W>]" — unlike sumdb's "tile/8/<L>/<N>", C2SP paths
// have no height element.
package merkle
