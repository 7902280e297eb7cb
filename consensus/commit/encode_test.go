package commit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pgfed/pgfed/consensus"
)

// sampleMessages returns encodings of every message kind.
func sampleMessages(t testing.TB) (f *fixture, msgs map[string][]byte) {
	f = newFixture(t, 1, 3, 1)
	r := f.request(t, "9f86d081884c7d651", "bank1", "bank2", "bank3")
	r2 := f.request(t, "g2", "bank1", "bank3")
	c, a := f.commit(r), f.abort(r2, "bank3")
	v := f.vote("bank2", 1, &r, VotePrepared)
	return f, map[string][]byte{
		"request":  r.Encode(),
		"vote":     v.Encode(),
		"decision": c.Encode(),
		"value":    value(c, a),
		"value1":   value(a),
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	f, msgs := sampleMessages(t)
	r, err := DecodeRequest(msgs["request"])
	if err != nil || !bytes.Equal(r.Encode(), msgs["request"]) || f.m.CheckRequest(&r) != nil {
		t.Fatalf("request: %v", err)
	}
	v, err := DecodeVote(msgs["vote"])
	if err != nil || !bytes.Equal(v.Encode(), msgs["vote"]) || f.m.CheckVote(&v) != nil {
		t.Fatalf("vote: %v", err)
	}
	d, err := DecodeDecision(msgs["decision"])
	if err != nil || !bytes.Equal(d.Encode(), msgs["decision"]) || f.m.CheckDecision(&d) != nil {
		t.Fatalf("decision: %v", err)
	}
	val, err := DecodeValue(msgs["value"])
	if err != nil || !bytes.Equal(val.Encode(), msgs["value"]) || f.m.CheckValue(&val) != nil {
		t.Fatalf("value: %v", err)
	}
}

func TestDecodeRejectsTruncatedAndTrailingInput(t *testing.T) {
	_, msgs := sampleMessages(t)
	decoders := map[string]func([]byte) error{
		"request":  func(b []byte) error { _, err := DecodeRequest(b); return err },
		"vote":     func(b []byte) error { _, err := DecodeVote(b); return err },
		"decision": func(b []byte) error { _, err := DecodeDecision(b); return err },
		"value":    func(b []byte) error { _, err := DecodeValue(b); return err },
	}
	for name, dec := range decoders {
		b := msgs[name]
		for i := 0; i < len(b); i++ {
			if err := dec(b[:i]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s cut at %d of %d: %v", name, i, len(b), err)
			}
		}
		if err := dec(append(append([]byte(nil), b...), 0)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s with a trailing byte: %v", name, err)
		}
	}
}

func TestDecodeRejectsNonCanonicalOrder(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	r := f.request(t, "g", "bank1", "bank2")
	// participants out of order (the encoder writes what it is given)
	swapped := r.clone()
	swapped.Participants[0], swapped.Participants[1] = swapped.Participants[1], swapped.Participants[0]
	if _, err := DecodeRequest(swapped.Encode()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unsorted participants: %v", err)
	}
	// votes out of order
	d := f.commit(r)
	d.Votes[0], d.Votes[1] = d.Votes[1], d.Votes[0]
	if _, err := DecodeDecision(d.Encode()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unsorted votes: %v", err)
	}
	// decisions out of order, and a gid twice
	a, b := f.commit(f.request(t, "a", "bank1", "bank2")), f.commit(f.request(t, "b", "bank1", "bank2"))
	for _, ds := range [][]Decision{{b, a}, {a, a}} {
		v := Value{Decisions: ds}
		if _, err := DecodeValue(v.Encode()); !errors.Is(err, ErrMalformed) {
			t.Fatalf("decisions %s,%s: %v", ds[0].GID(), ds[1].GID(), err)
		}
	}
	// no participant, a worker gid of another transaction, a bad name
	none := r.clone()
	none.Participants = nil
	foreign := r.clone()
	foreign.Participants[0].Parts[0].GID = f.gid("h_1")
	nested := r.clone()
	nested.Participants[0].Parts[0].GID = f.gid("g_1_2")
	badName := r.clone()
	badName.Participants[0].Org = "bank 1"
	for name, x := range map[string]Request{"no participant": none, "foreign part": foreign, "nested part": nested, "bad name": badName} {
		if _, err := DecodeRequest(x.Encode()); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// unknown version, unknown kinds
	v := value(a)
	v[0] = 2
	if _, err := DecodeValue(v); !errors.Is(err, ErrMalformed) {
		t.Fatalf("version 2: %v", err)
	}
	bad := f.vote("bank1", 0, &r, VotePrepared)
	bad.Kind = 3
	if _, err := DecodeVote(bad.Encode()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("vote kind 3: %v", err)
	}
}

func TestDecodeRejectsHugeCounts(t *testing.T) {
	// a count that promises more than the input holds must not allocate
	b := []byte{valueVersion, 0xff, 0xff, 0xff, 0xff}
	if _, err := DecodeValue(b); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
	b = []byte{valueVersion, 0, 0, 0x0f, 0xff}
	if _, err := DecodeValue(b); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
	if _, err := DecodeValue(make([]byte, consensus.MaxValueSize+1)); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
}

func TestPartOwner(t *testing.T) {
	for in, want := range map[string]string{"pgfed_c_9f86d0818_3": "pgfed_c_9f86d0818", "a_b": "a", "ab": "", "_x": "", "x_": ""} {
		got, ok := PartOwner(in)
		if got != want || ok != (want != "") {
			t.Errorf("PartOwner(%q) = %q, %v", in, got, ok)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to every decoder: none may panic, and
// whatever decodes must encode back to the same bytes (one encoding per
// message), and checking it must not panic either.
func FuzzDecode(f *testing.F) {
	fx, msgs := sampleMessages(f)
	for _, b := range msgs {
		f.Add(b)
	}
	d := NewDriver(fx.m)
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeRequest(b); err == nil {
			if !bytes.Equal(r.Encode(), b) {
				t.Fatal("request: not canonical")
			}
			_ = fx.m.CheckRequest(&r)
		}
		if v, err := DecodeVote(b); err == nil {
			if !bytes.Equal(v.Encode(), b) {
				t.Fatal("vote: not canonical")
			}
			_ = fx.m.CheckVote(&v)
		}
		if dec, err := DecodeDecision(b); err == nil {
			if !bytes.Equal(dec.Encode(), b) {
				t.Fatal("decision: not canonical")
			}
			_ = fx.m.CheckDecision(&dec)
		}
		if v, err := DecodeValue(b); err == nil {
			if !bytes.Equal(v.Encode(), b) {
				t.Fatal("value: not canonical")
			}
		}
		_ = d.Validate(1, b, true)
		_ = d.Combine(1, []consensus.Value{b})
		_, _ = RestoreLedger(fx.m, b)
	})
}

// TestWriteFuzzCorpus regenerates the seed corpus under testdata/fuzz
// when COMMIT_WRITE_CORPUS is set.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("COMMIT_WRITE_CORPUS") == "" {
		t.Skip("set COMMIT_WRITE_CORPUS=1 to rewrite testdata/fuzz/FuzzDecode")
	}
	_, msgs := sampleMessages(t)
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range msgs {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
