package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pgfed/pgfed/executor/federation"
)

// testCheckPrepare checks federation.App.CheckPrepare directly (a subtest
// of TestGateway, sharing its federation).
func testCheckPrepare(t *testing.T, f *testFed) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b1, b2, b3 := f.banks[0], f.banks[1], f.banks[2]
	app := b1.app
	refusal := func(err error, want string) {
		t.Helper()
		var pe *federation.PrepareError
		if !errors.As(err, &pe) || !errors.Is(err, federation.ErrPrepareRefused) || !strings.Contains(pe.Reason, want) || pe.Org != b1.org {
			t.Fatalf("CheckPrepare: %v, want a refusal by %s about %q", err, b1.org, want)
		}
	}
	quick := func(worker, gid, want string) {
		t.Helper()
		start := time.Now()
		refusal(app.CheckPrepare(ctx, worker, gid, 5*time.Second), want)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("a refusal for good took %v", d)
		}
	}
	quick(b1.gwAddr, "pgfed_c_1_2", "not a federated gid")
	quick(b1.gwAddr, "pgfedx_", "not a part gid")
	quick("127.0.0.1:1", "pgfedx_c_1_2", "not one of organization bank1's workers")

	// Unknown: refused once the wait is over.
	start := time.Now()
	refusal(app.CheckPrepare(ctx, b1.gwAddr, f.newGID()+"_bank1", 200*time.Millisecond), "no pending request")
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("refused after %v, before the wait", d)
	}
	// ctx ending ends the wait.
	cctx, ccancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err := app.CheckPrepare(cctx, b1.gwAddr, f.newGID()+"_bank1", 5*time.Second)
	ccancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CheckPrepare with an ended ctx: %v", err)
	}

	// A request submitted to bank3's validator reaches bank1's by gossip
	// while CheckPrepare waits.
	gid := f.newGID()
	legs := []leg{{b1, 5, -1}, {b2, 5, 1}}
	r := f.request(gid, legs...)
	done := make(chan error, 1)
	go func() { done <- app.CheckPrepare(ctx, b1.gwAddr, legs[0].part(gid).GID, 5*time.Second) }()
	time.Sleep(50 * time.Millisecond)
	c3, err := federation.NewClient(federation.ClientConfig{Membership: f.m, Validators: f.eps[2:3], Retry: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c3.Submit(ctx, r); err != nil {
		t.Fatalf("submit to %s: %v", b3.org, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("CheckPrepare of a part submitted elsewhere: %v", err)
	}
	// The same request, but another part or another worker: refused at once.
	quick(b1.gwAddr, gid+"_other", "does not list this part")
	quick(b1.gwAddr, legs[1].part(gid).GID, "does not list this part")
	// bank2's validator knows its own part.
	if err := b2.app.CheckPrepare(ctx, b2.gwAddr, legs[1].part(gid).GID, 5*time.Second); err != nil {
		t.Fatalf("bank2: %v", err)
	}
}
