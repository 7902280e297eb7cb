package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/executor/federation"
)

func ledgerTestPage(org string, slot uint64, digest byte) validatorPage {
	var key quorum.NodeID
	key[0] = digest
	p := federation.LedgerPage{Org: org, Slot: slot, Applied: slot, Digest: [32]byte{digest},
		Decisions: []federation.LedgerDecision{{Slot: slot, GID: "pgfedx_c_1", Outcome: commit.Commit, Orgs: []string{"org1", "org2"}}}}
	return validatorPage{val: dtx.FederationValidator{Org: org, Endpoint: federation.Endpoint{Addr: "x", Key: key}}, page: p}
}

// TestPrintLedgers: identical ledgers are said so and their decisions
// listed; a different digest at the same slot, or an unreachable
// validator, fails.
func TestPrintLedgers(t *testing.T) {
	var b bytes.Buffer
	if !printLedgers(&b, []validatorPage{ledgerTestPage("org1", 7, 1), ledgerTestPage("org2", 7, 1)}) {
		t.Fatalf("identical ledgers reported bad:\n%s", b.String())
	}
	for _, want := range []string{"the 2 ledgers are identical", "pgfedx_c_1", "COMMIT", "org1,org2"} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if printLedgers(&b, []validatorPage{ledgerTestPage("org1", 7, 1), ledgerTestPage("org2", 7, 2)}) || !strings.Contains(b.String(), "LEDGERS DIFFER at slot 7") {
		t.Fatalf("different ledgers:\n%s", b.String())
	}
	b.Reset()
	down := ledgerTestPage("org3", 0, 3)
	down.err = errors.New("connection refused")
	if printLedgers(&b, []validatorPage{ledgerTestPage("org1", 7, 1), down}) || !strings.Contains(b.String(), "unreachable: connection refused") {
		t.Fatalf("unreachable validator:\n%s", b.String())
	}
	b.Reset()
	if !printLedgers(&b, []validatorPage{ledgerTestPage("org1", 7, 1), ledgerTestPage("org2", 8, 2)}) || !strings.Contains(b.String(), "cannot be compared") {
		t.Fatalf("ledgers at different slots:\n%s", b.String())
	}
}

// TestLedgerFlags: the file is required, the limit bounded, and an
// organization not in the file refused.
func TestLedgerFlags(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{}, {"--federation", "f.json", "--limit", "0"}, {"--federation", "f.json", "--limit", "1001"}, {"--federation", "f.json", "extra"}} {
		if code := ledgerMain(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("pgfed ledger %q: exit %d, want 2", args, code)
		}
	}
	if code := ledgerMain(context.Background(), []string{"--federation", "/nonexistent/coordinator.json"}, &out, &errb); code != 2 {
		t.Errorf("missing file: exit %d, want 2", code)
	}
}
