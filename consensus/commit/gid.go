package commit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// KeyTagLen is the length of a KeyTag: 24 lowercase hex digits (96 bits).
const KeyTagLen = 2 * keyTagBytes

const keyTagBytes = 12

// KeyTag returns the tag that binds gids to a coordinator key: the
// lowercase hex of the first 12 bytes of SHA-256 over the key's 32 bytes.
//
// Every request's GID carries the tag of the key that signs it (GIDKeyTag,
// Request.check), so a request for someone else's gid verifies only under
// a key with the same tag. For a given honest coordinator key, finding
// another key with its tag is a second-preimage search on a 96-bit
// truncation of SHA-256: about 2^96 hashes (2^96/n to hit any one of n
// coordinators), far beyond reach. Birthday collisions (2^48) do not
// matter: two keys of the attacker's own that share a tag give it nothing
// it lacks already, since a coordinator can always sign two requests for
// its own gids (doc.go, safety argument, point 3). Keeping the tag short
// leaves room in PostgreSQL's 200-byte gids for the coordinator's own
// transaction id and the part suffixes.
func KeyTag(key quorum.NodeID) string {
	sum := sha256.Sum256(key[:])
	return hex.EncodeToString(sum[:keyTagBytes])
}

// GIDKeyTag returns the key tag field of a global gid: a gid has the form
//
//	<prefix>_<tag>_<rest>
//
// where prefix is non-empty and has no '_', tag is the second
// '_'-separated field, and rest (everything after the second '_') is
// non-empty and may hold more '_'. ok is false when gid has not that form.
// GIDKeyTag does not check the tag's length or digits: Request.check
// compares it with KeyTag of the request's coordinator.
func GIDKeyTag(gid string) (tag string, ok bool) {
	prefix, after, found := strings.Cut(gid, "_")
	if !found || prefix == "" {
		return "", false
	}
	tag, rest, found := strings.Cut(after, "_")
	if !found || tag == "" || rest == "" {
		return "", false
	}
	return tag, true
}

// checkGIDKey verifies that gid names key: its GIDKeyTag is KeyTag(key).
func checkGIDKey(gid string, key quorum.NodeID) error {
	tag, ok := GIDKeyTag(gid)
	if !ok {
		return fmt.Errorf("gid %s is not <prefix>_<coordinator key tag>_<id>", gid)
	}
	if want := KeyTag(key); tag != want {
		return fmt.Errorf("gid %s names key tag %q, but the request's coordinator key %s has tag %s: only the key a gid names may sign its requests", gid, tag, key, want)
	}
	return nil
}

// PartOwner returns the global gid a worker gid belongs to: everything
// before its last '_' (ok is false when there is none, or nothing after).
func PartOwner(workerGID string) (gid string, ok bool) {
	i := strings.LastIndexByte(workerGID, '_')
	if i <= 0 || i == len(workerGID)-1 {
		return "", false
	}
	return workerGID[:i], true
}
