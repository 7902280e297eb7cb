package validator

import (
	"context"
	"testing"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

func TestItemsCanonical(t *testing.T) {
	v := EncodeItems([][]byte{[]byte("b"), []byte("a"), []byte("b")})
	items, err := DecodeItems(v)
	if err != nil || len(items) != 2 || string(items[0]) != "a" || string(items[1]) != "b" {
		t.Fatalf("decode: %q %v", items, err)
	}
	// Not sorted, trailing bytes, truncated: refused.
	bad := [][]byte{
		{0, 0, 0, 2, 0, 0, 0, 1, 'b', 0, 0, 0, 1, 'a'},
		append(EncodeItems([][]byte{[]byte("a")}), 0),
		{0, 0, 0, 1, 0, 0, 0, 5, 'a'},
		{0, 0},
	}
	for _, b := range bad {
		if _, err := DecodeItems(b); err == nil {
			t.Fatalf("accepted %x", b)
		}
	}
	d := ItemDriver{MaxItems: 3}
	if d.Validate(1, EncodeItems(nil), true) != consensus.Invalid {
		t.Fatal("empty set valid")
	}
	if d.Validate(1, v, true) != consensus.FullyValid {
		t.Fatal("good set invalid")
	}
	got := d.Combine(1, []consensus.Value{EncodeItems([][]byte{[]byte("c"), []byte("a")}), v, EncodeItems([][]byte{[]byte("d")})})
	if want := EncodeItems([][]byte{[]byte("a"), []byte("b"), []byte("c")}); !got.Equal(want) {
		t.Fatalf("combine: %x, want %x", got, want)
	}
}

func FuzzDecodeItems(f *testing.F) {
	f.Add([]byte(EncodeItems([][]byte{[]byte("x"), []byte("y")})))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := DecodeItems(b)
		if err == nil && !EncodeItems(items).Equal(b) {
			t.Fatal("not canonical")
		}
	})
}

func TestCheckNetwork(t *testing.T) {
	ids := []quorum.NodeID{{1}, {2}, {3}, {4}}
	good := quorum.QSet{Threshold: 3, Validators: ids}
	res, err := CheckNetwork(context.Background(), ids[0], good, ids[1:], nil)
	if err != nil || !res.Intersects {
		t.Fatalf("3 of 4: %+v %v", res, err)
	}
	split := quorum.QSet{Threshold: 2, Validators: ids}
	res, err = CheckNetwork(context.Background(), ids[0], split, ids[1:], nil)
	if err != nil || res.Intersects || res.Split == nil {
		t.Fatalf("2 of 4: %+v %v", res, err)
	}
	// Peers known to trust only themselves break intersection.
	res, err = CheckNetwork(context.Background(), ids[0], good, ids[1:], map[quorum.NodeID]quorum.QSet{
		ids[1]: {Threshold: 1, Validators: ids[1:2]},
		ids[2]: {Threshold: 2, Validators: ids[2:]}, ids[3]: {Threshold: 2, Validators: ids[2:]},
	})
	if err != nil || res.Intersects {
		t.Fatalf("with peers' qsets: %+v %v", res, err)
	}
}
