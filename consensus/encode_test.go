package consensus

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

func sampleStatements() []Statement {
	b := func(n uint32, v string) *Ballot { return &Ballot{n, Value(v)} }
	h := Hash{7}
	return []Statement{
		{NodeID: nid("A"), Slot: 1, Pledge: Nominate{QSetHash: h, Votes: []Value{Value("x"), Value("y")}, Accepted: []Value{Value("y")}}},
		{NodeID: nid("B"), Slot: 2, Pledge: Prepare{QSetHash: h, Ballot: *b(3, "x"), Prepared: b(2, "x"), PreparedPrime: b(1, "w"), NC: 1, NH: 2}},
		{NodeID: nid("C"), Slot: 3, Pledge: Prepare{QSetHash: h, Ballot: *b(1, "")}},
		{NodeID: nid("D"), Slot: 4, Pledge: Confirm{QSetHash: h, Ballot: *b(Infinite, "z"), NPrepared: Infinite, NCommit: 2, NH: 9}},
		{NodeID: nid("E"), Slot: 1 << 40, Pledge: Externalize{CommitQSetHash: h, Commit: *b(2, "q"), NH: Infinite}},
	}
}

func TestEncodeRoundTripIsCanonical(t *testing.T) {
	for _, st := range sampleStatements() {
		env := Envelope{Statement: st, Signature: []byte{1, 2, 3}}
		data := env.Encode()
		got, err := DecodeEnvelope(data)
		if err != nil {
			t.Fatalf("%s: %v", st, err)
		}
		if !bytes.Equal(got.Encode(), data) {
			t.Fatalf("%s: re-encoding differs", st)
		}
		if got.Statement.String() != st.String() || got.Statement.NodeID != st.NodeID || got.Statement.Slot != st.Slot {
			t.Fatalf("round trip: %s != %s", got.Statement, st)
		}
		if st2, err := DecodeStatement(EncodeStatement(st)); err != nil || !bytes.Equal(EncodeStatement(st2), EncodeStatement(st)) {
			t.Fatalf("%s: statement round trip: %v", st, err)
		}
		// Every strict prefix is refused.
		for i := 0; i < len(data); i++ {
			if _, err := DecodeEnvelope(data[:i]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: prefix %d accepted", st, i)
			}
		}
	}
}

func TestSigningBytesBindNetworkAndKind(t *testing.T) {
	st := sampleStatements()[1]
	a := SigningBytes(Hash{1}, st)
	b := SigningBytes(Hash{2}, st)
	if bytes.Equal(a, b) {
		t.Fatal("different networks must sign different bytes")
	}
	if !bytes.HasPrefix(a, []byte(signingDomain)) || !bytes.HasSuffix(a, EncodeStatement(st)) {
		t.Fatal("signing bytes: domain || network || kind || statement")
	}
}

func TestDecodeRandomBytesNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	base := Envelope{Statement: sampleStatements()[1]}.Encode()
	for i := 0; i < 20000; i++ {
		data := append([]byte(nil), base...)
		for j := 0; j < 1+rng.Intn(4); j++ {
			data[rng.Intn(len(data))] = byte(rng.Intn(256))
		}
		if env, err := DecodeEnvelope(data); err == nil {
			if err := env.Statement.Check(); err != nil {
				t.Fatalf("decoded an insane statement: %v", err)
			}
		}
	}
}

// FuzzDecodeEnvelope: no input panics; whatever decodes is sane and
// re-encodes to the same bytes (the encoding is canonical).
func FuzzDecodeEnvelope(f *testing.F) {
	for _, st := range sampleStatements() {
		f.Add(Envelope{Statement: st, Signature: []byte("sig")}.Encode())
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := DecodeEnvelope(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not wrapping ErrMalformed: %v", err)
			}
			return
		}
		if err := env.Statement.Check(); err != nil {
			t.Fatalf("decoded insane statement: %v", err)
		}
		if !bytes.Equal(env.Encode(), data) {
			t.Fatalf("not canonical")
		}
	})
}

// TestWriteFuzzCorpus regenerates the checked-in seed corpus under
// testdata/fuzz/FuzzDecodeEnvelope when PGFED_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("PGFED_WRITE_CORPUS") == "" {
		t.Skip("set PGFED_WRITE_CORPUS=1 to regenerate the fuzz corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeEnvelope")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var inputs [][]byte
	for _, st := range sampleStatements() {
		data := Envelope{Statement: st, Signature: []byte("sig")}.Encode()
		inputs = append(inputs, data, data[:len(data)/2], append(append([]byte{}, data...), 0))
	}
	unsorted := Statement{NodeID: nid("A"), Slot: 1, Pledge: Nominate{Votes: []Value{Value("y"), Value("x")}}}
	empty := Statement{NodeID: nid("A"), Slot: 1, Pledge: Nominate{}}
	inputs = append(inputs, Envelope{Statement: unsorted}.Encode(), Envelope{Statement: empty}.Encode(), []byte{})
	for i, in := range inputs {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
