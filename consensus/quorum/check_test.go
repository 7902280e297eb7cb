package quorum

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "quorum", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckExampleNetworks runs the check on the example networks under
// testdata/quorum and compares the verdict and the minimal-set counts with
// the closed forms (symmetric t-of-n: C(n,t) minimal quorums, blocking sets
// of n-t+1 nodes, splitting sets of 2t-n nodes).
func TestCheckExampleNetworks(t *testing.T) {
	cases := []struct {
		file                  string
		exit                  int
		status                string
		mq, mbs, mss          int
		mbsSize, mssSize, nos int
	}{
		{"symmetric-4.json", ExitIntersecting, "intersecting", 4, 6, 6, 2, 2, 0},
		{"symmetric-7.json", ExitIntersecting, "intersecting", 21, 35, 35, 3, 3, 0},
		// 3 orgs, all required, 2 of 3 inside: 3^3 minimal quorums; blocking
		// = 2 nodes of one org; splitting = one node in every org.
		{"tiered-orgs.json", ExitIntersecting, "intersecting", 27, 9, 27, 2, 3, 0},
		// 4 orgs of 2, any 2 orgs suffice: orgs {a,b} and {c,d} are disjoint.
		{"split.json", ExitSplit, "split", 6, -1, 1, -1, 0, 0},
		// No quorum (z and w publish nothing usable); yet if z and w are
		// Byzantine, x and y each see a quorum of their own: {z, w} splits.
		{"no-quorum.json", ExitNoQuorum, "no quorum", 0, 1, 1, 0, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r, exit := Check(t.Context(), readExample(t, c.file))
			if exit != c.exit || r.Status != c.status {
				t.Fatalf("exit %d status %q, want %d %q (%s)", exit, r.Status, c.exit, c.status, r.Error)
			}
			if len(r.MinimalQuorums) != c.mq || len(r.MinimalSplittingSets) != c.mss {
				t.Errorf("minimal quorums %d, splitting sets %d; want %d, %d", len(r.MinimalQuorums), len(r.MinimalSplittingSets), c.mq, c.mss)
			}
			if c.mbs >= 0 && (len(r.MinimalBlockingSets) != c.mbs || smallest(r.MinimalBlockingSets) != c.mbsSize) {
				t.Errorf("blocking sets %d of size %d, want %d of %d", len(r.MinimalBlockingSets), smallest(r.MinimalBlockingSets), c.mbs, c.mbsSize)
			}
			if smallest(r.MinimalSplittingSets) != c.mssSize {
				t.Errorf("smallest splitting set %d, want %d", smallest(r.MinimalSplittingSets), c.mssSize)
			}
			if len(r.WithoutQuorumSet) != c.nos {
				t.Errorf("without quorum set: %v", r.WithoutQuorumSet)
			}
			if c.exit == ExitSplit {
				if len(r.Split) != 2 || len(r.Split[0]) != 4 || len(r.Split[1]) != 4 {
					t.Errorf("split %v", r.Split)
				}
			}
		})
	}
}

func TestCheckSplitTextNamesBothQuorums(t *testing.T) {
	r, _ := Check(t.Context(), readExample(t, "split.json"))
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"do NOT intersect", "quorum 1: bank-", "quorum 2: bank-"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckTextVerdicts(t *testing.T) {
	for file, want := range map[string]string{
		"symmetric-4.json": "all quorums intersect",
		"no-quorum.json":   "no quorum: no set of the 4 nodes forms a quorum",
	} {
		r, _ := Check(t.Context(), readExample(t, file))
		var b bytes.Buffer
		r.WriteText(&b)
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s: %s", file, b.String())
		}
	}
}

func TestCheckJSONIsMachineReadable(t *testing.T) {
	r, _ := Check(t.Context(), readExample(t, "tiered-orgs.json"))
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"status", "intersects", "noQuorum", "minimalQuorums", "minimalBlockingSets", "minimalSplittingSets", "names"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if got["noQuorum"] != false || got["intersects"] != true {
		t.Errorf("flags %v %v", got["intersects"], got["noQuorum"])
	}
}

func TestCheckBadInputExit3(t *testing.T) {
	r, exit := Check(t.Context(), []byte(`{"not": "an array"}`))
	if exit != ExitBadInput || !strings.Contains(r.Error, "want a JSON array of nodes") {
		t.Errorf("exit %d error %q", exit, r.Error)
	}
	var b bytes.Buffer
	r.WriteText(&b)
	if !strings.HasPrefix(b.String(), "error: ") {
		t.Errorf("text %q", b.String())
	}
}

func TestCheckLargeNetworkSkipsMinimalSets(t *testing.T) {
	net, err := OrgNetwork(DevOrgs(6, 3))
	if err != nil {
		t.Fatal(err)
	}
	r, exit := CheckNetwork(t.Context(), net)
	if exit != ExitIntersecting || r.MinimalSetsSkipped == "" || r.MinimalQuorums != nil {
		t.Errorf("exit %d skipped %q", exit, r.MinimalSetsSkipped)
	}
}

func TestCheckInsaneQuorumSetIgnoredWithWarning(t *testing.T) {
	a, b := knownKeys[0], knownKeys[1]
	data := `[{"publicKey":"` + a + `","quorumSet":{"threshold":1,"validators":["` + a + `"]}},
	          {"publicKey":"` + b + `","quorumSet":{"threshold":3,"validators":["` + a + `","` + b + `"]}}]`
	r, exit := Check(t.Context(), []byte(data))
	if exit != ExitIntersecting || len(r.IgnoredQuorumSets) != 1 || !strings.Contains(r.IgnoredQuorumSets[b], "exceeds") {
		t.Errorf("exit %d ignored %v", exit, r.IgnoredQuorumSets)
	}
}

func TestCheckInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	net, _ := OrgNetwork(DevOrgs(7, 3))
	r, exit := CheckNetwork(ctx, net)
	if exit != ExitBadInput || !strings.Contains(r.Error, "interrupted") {
		t.Errorf("exit %d error %q", exit, r.Error)
	}
}
