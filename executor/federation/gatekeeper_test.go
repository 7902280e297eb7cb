package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
)

// TestCheckPrepareNotStarted: an App that has not restored its state
// refuses every PREPARE at once.
func TestCheckPrepareNotStarted(t *testing.T) {
	_, k1, _ := ed25519.GenerateKey(rand.Reader)
	_, k2, _ := ed25519.GenerateKey(rand.Reader)
	m, err := commit.NewMembership(commit.Config{Network: validator.NetworkID(testNetwork), Orgs: []commit.Org{
		{Name: "bank1", Validators: []quorum.NodeID{transport.NodeID(k1)}}, {Name: "bank2", Validators: []quorum.NodeID{transport.NodeID(k2)}}}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Membership: m, Key: k1, DataDir: t.TempDir(), Timeout: 1, GossipListen: "127.0.0.1:0",
		Workers: []Worker{{Name: "w1", Host: "127.0.0.1", Port: 1, Database: "postgres"}}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = a.CheckPrepare(context.Background(), "w1", GIDPrefix+"c_1_bank1", 5*time.Second)
	var pe *PrepareError
	if !errors.As(err, &pe) || !errors.Is(err, ErrPrepareRefused) || !strings.Contains(pe.Reason, "not running") || time.Since(start) > time.Second {
		t.Fatalf("CheckPrepare before Start: %v after %v", err, time.Since(start))
	}
}

// TestCheckPrepareVetoed: once the validator rolled back an orphan part
// of a gid (its coordinator prepared before submitting, and seemed gone),
// no part of that gid may be prepared any more, even when its request
// shows up, and the refusal does not wait.
func TestCheckPrepareVetoed(t *testing.T) {
	f := newFed(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b1, b2 := f.banks[0], f.banks[1]
	gid := f.newGID()
	legs := []leg{{b1, 7, -5}, {b2, 7, 5}}
	if err := f.prepare(ctx, gid, legs[0]); err != nil {
		t.Fatal(err)
	}
	f.eventually(ctx, "orphan rolled back", func() bool { return len(f.prepared(ctx, b1)) == 0 })
	if err := f.client.Submit(ctx, f.request(gid, legs...)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := b1.app.CheckPrepare(ctx, b1.worker.Name, legs[0].part(gid).GID, 5*time.Second)
	var pe *PrepareError
	if !errors.As(err, &pe) || !(strings.Contains(pe.Reason, "vetoed") || strings.Contains(pe.Reason, "decided") || strings.Contains(pe.Reason, "voted ABORT")) {
		t.Fatalf("CheckPrepare of a vetoed gid: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("refused after %v: a vetoed gid is refused at once", d)
	}
	// bank2's part of it is still known to bank2 until the ABORT: then it
	// is refused as decided.
	f.eventually(ctx, "ABORT decided", func() bool {
		err := b2.app.CheckPrepare(ctx, b2.worker.Name, legs[1].part(gid).GID, 0)
		return errors.As(err, &pe) && strings.Contains(pe.Reason, "decided (ABORT")
	})
}
