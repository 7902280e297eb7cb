package quorum

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseStellarbeatNodesAndQuorumSets(t *testing.T) {
	a, b, c := knownKeys[0], knownKeys[1], knownKeys[2]
	var hexKey NodeID
	hexKey[0] = 0xAB
	data := `[
	  {"publicKey": "` + a + `", "name": "sdf1", "quorumSet": {"threshold": 2, "validators": ["` + a + `", "` + b + `"],
	    "innerQuorumSets": [{"threshold": 1, "validators": ["` + c + `"]}]}, "isValidator": true},
	  {"publicKey": "` + b + `", "name": null},
	  {"publicKey": "ab` + strings.Repeat("00", 31) + `", "quorumSet": {}},
	  {"publicKey": "` + c + `", "quorumSet": null}
	]`
	net, err := ParseStellarbeat([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	ida, _ := ParseNodeID(a)
	idb, _ := ParseNodeID(b)
	idc, _ := ParseNodeID(c)
	if len(net.Nodes()) != 4 {
		t.Errorf("nodes %v", net.Nodes())
	}
	q := net.QSets[ida]
	if q == nil || q.Threshold != 2 || len(q.Validators) != 2 || len(q.InnerSets) != 1 || q.InnerSets[0].Validators[0] != idc {
		t.Errorf("quorum set of a: %+v", q)
	}
	for _, id := range []NodeID{idb, idc, hexKey} {
		if q, ok := net.QSets[id]; !ok || q != nil {
			t.Errorf("%v: want a known node without quorum set, got %v %v", id, q, ok)
		}
	}
	if net.Name(ida) != "sdf1" || net.Name(idb) != idb.String() {
		t.Errorf("names %v", net.Names)
	}
}

func TestParseStellarbeatReferencedOnlyNodeIsUnknown(t *testing.T) {
	a, b := knownKeys[0], knownKeys[1]
	net, err := ParseStellarbeat([]byte(`[{"publicKey":"` + a + `","quorumSet":{"threshold":1,"validators":["` + b + `"]}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(net.Nodes()) != 2 {
		t.Errorf("nodes %v", net.Nodes())
	}
}

func TestParseStellarbeatRejectsBadInput(t *testing.T) {
	a := knownKeys[0]
	cases := map[string]string{
		``:                                  "want a JSON array",
		`{}`:                                "want a JSON array",
		`null`:                              "got null",
		`[] []`:                             "data after",
		`[{"name":"x"}]`:                    "no publicKey",
		`[{"publicKey":"x"}]`:               "want a Stellar G... strkey",
		`[{"publicKey":"` + a[:55] + `B"}]`: "checksum",
		`[{"publicKey":"` + a + `"},{"publicKey":"` + a + `"}]`:                            "listed twice",
		`[{"publicKey":"` + a + `","quorumSet":{"threshold":-1,"validators":[]}}]`:         "threshold -1",
		`[{"publicKey":"` + a + `","quorumSet":{"threshold":1.5,"validators":[]}}]`:        "threshold 1.5",
		`[{"publicKey":"` + a + `","quorumSet":{"threshold":4294967296,"validators":[]}}]`: "threshold 4294967296",
		`[{"publicKey":"` + a + `","quorumSet":{"threshold":1,"validators":["nope"]}}]`:    "nope",
		`[{"publicKey":"` + a + `","quorumSet":{"threshold":1,"validators":"` + a + `"}}]`: "want a JSON array",
	}
	for in, want := range cases {
		_, err := ParseStellarbeat([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrBadNetwork) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
}

func TestParseStellarbeatDeepNestingBounded(t *testing.T) {
	a := knownKeys[0]
	deep := strings.Repeat(`{"threshold":1,"innerQuorumSets":[`, 100) + `{"threshold":1,"validators":["` + a + `"]}` + strings.Repeat(`]}`, 100)
	_, err := ParseStellarbeat([]byte(`[{"publicKey":"` + a + `","quorumSet":` + deep + `}]`))
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("err = %v", err)
	}
}

// FuzzParseStellarbeat: the reader never panics, and what it accepts can be
// analysed (small networks only, to keep each input fast).
func FuzzParseStellarbeat(f *testing.F) {
	for _, name := range []string{"symmetric-4.json", "split.json", "no-quorum.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "quorum", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"publicKey":"` + knownKeys[0] + `","quorumSet":{"threshold":1,"validators":["` + knownKeys[0] + `"]}}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		net, err := ParseStellarbeat(b)
		if err != nil {
			return
		}
		if len(net.Nodes()) > 8 {
			return
		}
		if _, err := CheckIntersection(t.Context(), net); err != nil {
			t.Fatal(err)
		}
		if _, err := FindMinimalSets(t.Context(), net); err != nil {
			t.Fatal(err)
		}
	})
}
