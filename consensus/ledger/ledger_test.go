package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

var (
	testNet  = consensus.Hash{1, 2, 3}
	testNode = quorum.NodeID{9, 9, 9}
	peerNode = quorum.NodeID{7}
)

func opts() Options { return Options{Network: testNet, Node: testNode} }

func extEnv(node quorum.NodeID, slot uint64, v string) consensus.Envelope {
	return consensus.Envelope{
		Statement: consensus.Statement{NodeID: node, Slot: slot, Pledge: consensus.Externalize{
			Commit: consensus.Ballot{Counter: 1, Value: consensus.Value(v)}, NH: 1}},
		Signature: []byte("sig-" + v),
	}
}

func nomEnv(slot uint64, votes ...string) consensus.Envelope {
	var vs []consensus.Value
	for _, v := range votes {
		vs = append(vs, consensus.Value(v))
	}
	return consensus.Envelope{Statement: consensus.Statement{NodeID: testNode, Slot: slot,
		Pledge: consensus.Nominate{Votes: vs}}}
}

func rec(slot uint64) Record {
	v := fmt.Sprintf("value-%d", slot)
	return Record{Slot: slot, Value: consensus.Value(v), Proof: []consensus.Envelope{extEnv(testNode, slot, v), extEnv(peerNode, slot, v)}}
}

func mustOpen(t *testing.T, dir string) *Ledger {
	t.Helper()
	l, err := Open(dir, opts())
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return l
}

func readAll(t *testing.T, l *Ledger, from uint64) []Record {
	t.Helper()
	var out []Record
	for r, err := range l.Records(from) {
		if err != nil {
			t.Fatalf("records: %v", err)
		}
		out = append(out, r)
	}
	return out
}

func sameRecord(a, b Record) bool { return bytes.Equal(EncodeRecord(a), EncodeRecord(b)) }

func TestAppendReopenIterate(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir)
	for s := uint64(1); s <= 5; s++ {
		if err := l.Append(rec(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Append(rec(7)); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("append slot 7 after 5: %v, want ErrOutOfOrder", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, dir)
	defer l.Close()
	if l.Last() != 5 || string(l.LastValue()) != "value-5" {
		t.Fatalf("last %d %q", l.Last(), l.LastValue())
	}
	got := readAll(t, l, 3)
	if len(got) != 3 || !sameRecord(got[0], rec(3)) || !sameRecord(got[2], rec(5)) {
		t.Fatalf("records from 3: %v", got)
	}
	if r, ok, err := l.Get(2); err != nil || !ok || !sameRecord(r, rec(2)) {
		t.Fatalf("get 2: %v %v %v", r, ok, err)
	}
	if _, ok, _ := l.Get(6); ok {
		t.Fatal("get 6: present")
	}
}

func TestLedgerStartsAtAnySlot(t *testing.T) {
	l := mustOpen(t, t.TempDir())
	defer l.Close()
	if err := l.Append(rec(10)); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(rec(11)); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, l, 1); len(got) != 2 || got[0].Slot != 10 {
		t.Fatalf("records: %v", got)
	}
}

// TestCrashTruncatedLedger simulates a crash at every byte of the last
// record's write: reopening yields the records before it, and the ledger
// accepts the lost record again.
func TestCrashTruncatedLedger(t *testing.T) {
	src := t.TempDir()
	l := mustOpen(t, src)
	for s := uint64(1); s <= 3; s++ {
		if err := l.Append(rec(s)); err != nil {
			t.Fatal(err)
		}
	}
	before := l.ledger.size
	if err := l.Append(rec(4)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	data, err := os.ReadFile(filepath.Join(src, LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	for cut := before; cut < int64(len(data)); cut++ {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, LedgerFile), data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		l := mustOpen(t, dir)
		if l.Last() != 3 || l.Torn(LedgerFile) != cut-before {
			t.Fatalf("cut at %d: last %d torn %d", cut, l.Last(), l.Torn(LedgerFile))
		}
		got := readAll(t, l, 1)
		if len(got) != 3 || !sameRecord(got[2], rec(3)) {
			t.Fatalf("cut at %d: %d records", cut, len(got))
		}
		if err := l.Append(rec(4)); err != nil {
			t.Fatalf("cut at %d: append again: %v", cut, err)
		}
		l.Close()
		l = mustOpen(t, dir)
		if l.Last() != 4 {
			t.Fatalf("cut at %d: after re-append last %d", cut, l.Last())
		}
		l.Close()
	}
}

// TestCrashTruncatedEnvelopes: a torn last write of envelopes.log loses only
// that batch; the previous latest envelopes survive.
func TestCrashTruncatedEnvelopes(t *testing.T) {
	src := t.TempDir()
	l := mustOpen(t, src)
	if err := l.SaveEnvelopes([]consensus.Envelope{nomEnv(1, "a"), extEnv(testNode, 1, "a")}); err != nil {
		t.Fatal(err)
	}
	before := l.envs.size
	if err := l.SaveEnvelopes([]consensus.Envelope{nomEnv(2, "b", "c")}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	data, _ := os.ReadFile(filepath.Join(src, EnvelopesFile))
	for cut := before; cut < int64(len(data)); cut++ {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, EnvelopesFile), data[:cut], 0o600)
		l := mustOpen(t, dir)
		envs := l.Envelopes()
		if len(envs) != 2 || envs[0].Statement.Type() != consensus.TypeNominate || envs[1].Statement.Type() != consensus.TypeExternalize {
			t.Fatalf("cut at %d: envelopes %v", cut, envs)
		}
		l.Close()
	}
}

func TestTornChecksumAtEndTruncated(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir)
	l.Append(rec(1))
	l.Append(rec(2))
	l.Close()
	path := filepath.Join(dir, LedgerFile)
	data, _ := os.ReadFile(path)
	data[len(data)-1] ^= 0xff
	os.WriteFile(path, data, 0o600)
	l = mustOpen(t, dir)
	defer l.Close()
	if l.Last() != 1 {
		t.Fatalf("last %d, want 1", l.Last())
	}
}

func TestCorruptionInTheMiddleFails(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir)
	l.Append(rec(1))
	mid := l.ledger.size
	l.Append(rec(2))
	l.Append(rec(3))
	l.Close()
	path := filepath.Join(dir, LedgerFile)
	data, _ := os.ReadFile(path)
	data[mid+frameHeader+3] ^= 0xff
	os.WriteFile(path, data, 0o600)
	if _, err := Open(dir, opts()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open corrupted: %v, want ErrCorrupt", err)
	}
}

func TestWrongFolderAndLock(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir)
	if _, err := Open(dir, opts()); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	l.Close()
	o := opts()
	o.Network = consensus.Hash{4}
	if _, err := Open(dir, o); !errors.Is(err, ErrWrongFolder) {
		t.Fatalf("other network: %v, want ErrWrongFolder", err)
	}
	o = opts()
	o.Node = peerNode
	if _, err := Open(dir, o); !errors.Is(err, ErrWrongFolder) {
		t.Fatalf("other node: %v, want ErrWrongFolder", err)
	}
}

func TestCompactKeepsLatest(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir)
	for s := uint64(1); s <= 10; s++ {
		l.SaveEnvelopes([]consensus.Envelope{nomEnv(s, "a")})
		l.SaveEnvelopes([]consensus.Envelope{nomEnv(s, "a", "b"), extEnv(testNode, s, "a")})
	}
	if err := l.Compact(8); err != nil {
		t.Fatal(err)
	}
	if n := l.EnvelopeRecords(); n != 6 {
		t.Fatalf("records after compact: %d", n)
	}
	l.SaveEnvelopes([]consensus.Envelope{nomEnv(11, "z")})
	l.Close()
	l = mustOpen(t, dir)
	defer l.Close()
	envs := l.Envelopes()
	if len(envs) != 7 || envs[0].Statement.Slot != 8 || len(envs[0].Statement.Pledge.(consensus.Nominate).Votes) != 2 {
		t.Fatalf("envelopes after compact: %v", envs)
	}
}

func TestSaveRejectsForeignEnvelope(t *testing.T) {
	l := mustOpen(t, t.TempDir())
	defer l.Close()
	if err := l.SaveEnvelopes([]consensus.Envelope{extEnv(peerNode, 1, "x")}); err == nil {
		t.Fatal("saved a peer's envelope")
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(EncodeRecord(rec(1)))
	f.Add([]byte{'R'})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecord(b)
		if err == nil && !bytes.Equal(EncodeRecord(r), b) {
			t.Fatalf("decode/encode not canonical")
		}
	})
}
