package quorum

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeIsXDROfSCPQuorumSet(t *testing.T) {
	var a NodeID
	a[0] = 0xAA
	q := QSet{Threshold: 2, Validators: []NodeID{a}, InnerSets: []QSet{{Threshold: 1}}}
	want := "00000002" + "00000001" + "00000000" + "aa" + strings.Repeat("00", 31) + "00000001" +
		"00000001" + "00000000" + "00000000"
	if got := hex.EncodeToString(q.Encode()); got != want {
		t.Errorf("Encode = %s\nwant     %s", got, want)
	}
	if q.Hash() != sha256.Sum256(q.Encode()) {
		t.Error("Hash is not SHA-256 of the encoding")
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	r := seeded(t, 5)
	for range 300 {
		q := randomQSet(r, 20, 0)
		b := q.Encode()
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(%+v)): %v", q, err)
		}
		if !bytes.Equal(d.Encode(), b) {
			t.Fatalf("round trip changed %+v into %+v", q, d)
		}
		n := Normalize(&q, nil)
		dn, _ := Decode(n.Encode())
		if !reflect.DeepEqual(dn, n) {
			t.Fatalf("normal form %+v decodes to %+v", n, dn)
		}
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	good := enc(qs(1, nids(1), qs(1, nids(2))))
	deep := nest(MaxDepth + 1)
	badKey := bytes.Clone(good)
	badKey[11] = 1 // key type of the first validator
	many := make([]NodeID, MaxValidators+1)
	for i := range many {
		many[i] = nid(i)
	}
	cases := []struct {
		name   string
		b      []byte
		reason string
	}{
		{"empty", nil, "truncated"},
		{"truncated key", good[:20], "do not fit"},
		{"truncated tail", good[:len(good)-1], "truncated"},
		{"trailing bytes", append(bytes.Clone(good), 0), "trailing"},
		{"key type", badKey, "key type 1"},
		{"huge validator count", []byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}, "do not fit"},
		{"huge inner count", []byte{0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, "do not fit"},
		{"too deep", deep.Encode(), "nested deeper"},
		{"too many validators", enc(qs(1, many)), "more than 1000 validators"},
		{"too long", make([]byte, MaxEncodedLen+1), "more than"},
	}
	for _, c := range cases {
		_, err := Decode(c.b)
		if err == nil || !strings.Contains(err.Error(), c.reason) || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.reason)
		}
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts re-encodes to
// the same bytes (the encoding is canonical).
func FuzzDecode(f *testing.F) {
	f.Add(enc(qs(1, nids(1))))
	f.Add(enc(qs(2, nids(1, 2, 3), qs(1, nids(4, 5)))))
	f.Add(enc(nest(MaxDepth)))
	f.Add([]byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := Decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(q.Encode(), b) {
			t.Fatalf("re-encoding differs: %x vs %x", q.Encode(), b)
		}
		_ = q.Sane(false)
		n := Normalize(&q, nil)
		_ = n.Hash()
		_ = q.Weight(nid(1))
	})
}

func enc(q QSet) []byte { return q.Encode() }
