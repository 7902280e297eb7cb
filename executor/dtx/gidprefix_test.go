package dtx

import (
	"strings"
	"testing"

	"github.com/pgfed/pgfed/executor/federation"
)

// TestGIDPrefixDisjointFromFederation: dtx recovery (presumed abort) must
// never see a federated part, and the validators' orphan sweep never a
// dtx transaction. (Moved from executor/federation, whose tests cannot
// import dtx now that dtx imports federation.)
func TestGIDPrefixDisjointFromFederation(t *testing.T) {
	if strings.HasPrefix(federation.GIDPrefix, GIDPrefix) || strings.HasPrefix(GIDPrefix, federation.GIDPrefix) {
		t.Fatalf("federated prefix %q and dtx prefix %q overlap", federation.GIDPrefix, GIDPrefix)
	}
}
