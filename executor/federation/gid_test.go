package federation

import (
	"strings"
	"testing"

	"github.com/pgfed/pgfed/executor/dtx"
)

// TestGIDPrefixDisjointFromDtx: dtx recovery (presumed abort) must never
// see a federated part, and the orphan sweep never a dtx transaction.
func TestGIDPrefixDisjointFromDtx(t *testing.T) {
	if strings.HasPrefix(GIDPrefix, dtx.GIDPrefix) || strings.HasPrefix(dtx.GIDPrefix, GIDPrefix) {
		t.Fatalf("federated prefix %q and dtx prefix %q overlap", GIDPrefix, dtx.GIDPrefix)
	}
}
