package dtx

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/executor/failpoint"
	"github.com/pgfed/pgfed/executor/federation"
)

// DefaultFederationWait bounds how long COMMIT of a federated transaction
// waits for the validators' decision.
const DefaultFederationWait = 30 * time.Second

// Federation configures the federated commit: a transaction that wrote on
// several workers, at least one of them an organization's, is decided by
// the organizations' validators (package executor/federation) instead of
// the metadata database's decision log. See commitFederated.
type Federation struct {
	// Key is the coordinator's Ed25519 key: it signs the commit requests.
	// Required.
	Key ed25519.PrivateKey
	// Membership is the federation's organizations and validator keys,
	// the same as the validators'. Required.
	Membership *commit.Membership
	// Validators are the validators' client endpoints. At least one;
	// each key must be a validator of its organization in Membership.
	Validators []FederationValidator
	// Wait bounds the wait for a decision (DefaultFederationWait).
	Wait time.Duration
	// Retry is the pause between attempts at the validators (0: the
	// federation client's default).
	Retry time.Duration
}

// FederationValidator is one validator a coordinator may submit to.
type FederationValidator struct {
	// Org is the validator's organization.
	Org string
	// Endpoint is its client address and key.
	Endpoint federation.Endpoint
}

// validate checks f and fills in defaults.
func (f *Federation) validate() error {
	switch {
	case len(f.Key) != ed25519.PrivateKeySize:
		return errors.New("dtx: Federation.Key is not an Ed25519 private key")
	case f.Membership == nil:
		return errors.New("dtx: Federation.Membership is required")
	case len(f.Validators) == 0:
		return errors.New("dtx: Federation.Validators is empty")
	}
	for _, v := range f.Validators {
		if org, ok := f.Membership.OrgOf(v.Endpoint.Key); !ok || org != v.Org {
			return fmt.Errorf("dtx: federation validator %s (%s) is not a validator of %q in the membership", v.Endpoint.Addr, v.Endpoint.Key, v.Org)
		}
		if v.Endpoint.Addr == "" {
			return fmt.Errorf("dtx: federation validator %s of %q has no address", v.Endpoint.Key, v.Org)
		}
	}
	if f.Wait <= 0 {
		f.Wait = DefaultFederationWait
	}
	return nil
}

// client returns a federation client that tries the validators of orgs
// first, then the others.
func (f *Federation) client(c *Coordinator, orgs []string) (*federation.Client, error) {
	vals := f.ordered(orgs)
	list := make([]federation.Endpoint, len(vals))
	for i, v := range vals {
		list[i] = v.Endpoint
	}
	return federation.NewClient(federation.ClientConfig{Membership: f.Membership, Validators: list, Retry: f.Retry, Logger: c.cfg.Logger})
}

// ordered returns the validators of orgs first, in the order of orgs,
// then the others in their configured order.
func (f *Federation) ordered(orgs []string) []FederationValidator {
	rank := make(map[string]int, len(orgs))
	for i, o := range orgs {
		rank[o] = i
	}
	vals := append([]FederationValidator(nil), f.Validators...)
	sort.SliceStable(vals, func(i, j int) bool {
		ri, oki := rank[vals[i].Org]
		rj, okj := rank[vals[j].Org]
		if oki && okj {
			return ri < rj
		}
		return oki && !okj
	})
	return vals
}

// federatedGID returns the global gid of a federated transaction signed by
// key: federation.GIDPrefix + commit.KeyTag(key's public key) + "_" +
// txid. The validators accept a request only for a gid that names the key
// signing it (commit.Request), so nobody else can sign a rival request for
// this transaction. Its part on a worker is the gid, '_' and the node id
// (commit.PartOwner): 7 + 24 + 1 + at most 36 (TxID) + 1 + at most 11
// bytes, far below commit.MaxGIDLen. The coordinator's human id is not in
// the gid (it goes in the logs).
func federatedGID(key ed25519.PrivateKey, id TxID) string {
	var pub quorum.NodeID
	copy(pub[:], key.Public().(ed25519.PublicKey))
	return federation.GIDPrefix + commit.KeyTag(pub) + "_" + id.String()
}

// isFederated reports whether a commit of these written workers goes
// through the validators: a federation is configured, more than one
// worker was written, and at least one of them belongs to an
// organization.
func (t *Txn) isFederated(written []*participant) bool {
	if t.coord.cfg.Federation == nil || len(written) < 2 {
		return false
	}
	for _, p := range written {
		if p.node.Organization != "" {
			return true
		}
	}
	return false
}

// commitFederated commits a transaction whose writes the organizations'
// validators decide (consensus/commit, "What the other pieces must do"):
//
//  1. the commit request — one part per written worker, named by the
//     worker's "host:port" as in the catalog — is signed and submitted to
//     a validator, before anything is prepared (a gateway prepares only a
//     gid its validator knows);
//  2. PREPARE TRANSACTION on every written worker, COMMIT on the readers,
//     at once;
//  3. the coordinator waits, at most Federation.Wait, for the decision to
//     be final and applied by every participant.
//
// The coordinator never finalizes a part: no COMMIT PREPARED, no ROLLBACK
// PREPARED. A part that failed to prepare is left to its validator, which
// votes ABORT once its commit timeout passes; the coordinator just waits.
// Until the request is submitted nothing is prepared, and a failure rolls
// the workers back. The client gets nil for COMMIT, 40001
// (serialization_failure) naming the gid for ABORT, and 40003
// (statement_completion_unknown) when no decision came in time (the
// validators still decide, without the coordinator).
func (t *Txn) commitFederated(ctx context.Context, written, readers []*participant) error {
	fed := t.coord.cfg.Federation
	gid := federatedGID(fed.Key, t.id)
	log := t.log.With("gid", gid, "coordinator", t.coord.cfg.ID)
	all := append(append([]*participant(nil), written...), readers...)
	r, orgs, err := t.federatedRequest(gid, written)
	if err != nil {
		t.rollbackParts(ctx, all)
		return err
	}
	client, err := fed.client(t.coord, orgs)
	if err != nil {
		t.rollbackParts(ctx, all)
		return &Error{Op: "federated commit", GID: gid, Err: err}
	}

	if err := hit(failpoint.FedBeforeSubmit); err != nil {
		t.rollbackParts(ctx, all)
		return &Error{Op: "submit to the validators", GID: gid, Err: err}
	}
	sctx, cancel := context.WithTimeout(ctx, fed.Wait)
	err = client.Submit(sctx, r)
	cancel()
	if err != nil {
		// Nothing is prepared: rolling back is safe even if a validator
		// did learn the request (its parts time out into ABORT).
		t.rollbackParts(ctx, all)
		return &Error{Op: "submit to the validators", GID: gid, Code: pgerrcode.TransactionRollback,
			Err: fmt.Errorf("the transaction was rolled back: %w", err)}
	}

	var prepareErr error
	if ferr := hit(failpoint.FedAfterSubmit); ferr != nil {
		// The coordinator fails before preparing: its workers roll back
		// (as for a crash) and the validators abort the request.
		log.Warn("federated commit stopped before prepare; the validators will abort it", "error", ferr)
		t.rollbackParts(ctx, all)
		prepareErr = ferr
	} else {
		prepareErr = fanOut(ctx, all, prepareOrCommit)
		if prepareErr != nil {
			log.Debug("a part failed to prepare; its validator will vote ABORT", "error", prepareErr)
			// Only what is still open is rolled back (a part whose
			// PREPARE failed is already); prepared parts are the
			// validators'.
			t.rollbackParts(ctx, all)
		} else if ferr := hit(failpoint.FedAfterPrepare); ferr != nil {
			return t.undecided(gid, ferr)
		}
	}
	if ferr := hit(failpoint.FedBeforeWait); ferr != nil {
		return t.undecided(gid, ferr)
	}

	// A cancellation comes too late now: whatever it is, the decision is
	// the validators', and waiting for it is the only way to tell the
	// client.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fed.Wait)
	defer cancel()
	o, err := client.Commit(wctx, r)
	switch {
	case errors.Is(err, federation.ErrNotApplied):
		log.Info("federated commit final, not yet applied by every participant", "slot", o.Slot, "error", err)
		return nil
	case err != nil && wctx.Err() != nil:
		log.Warn("no decision from the validators in time", "wait", fed.Wait, "error", err)
		return &Error{Op: "federated commit", GID: gid, Code: pgerrcode.StatementCompletionUnknown,
			Err: fmt.Errorf("no decision from the validators within %s; they will still decide it, without the coordinator: %w", fed.Wait, err)}
	case err != nil:
		return &Error{Op: "federated commit", GID: gid, Code: pgerrcode.StatementCompletionUnknown,
			Err: fmt.Errorf("the validators did not answer with a decision; they will still decide it: %w", err)}
	case o.Request != r.Hash():
		return &Error{Op: "federated commit", GID: gid, Code: pgerrcode.SerializationFailure,
			Err: fmt.Errorf("the validators decided %s for another request with this gid in slot %d; this transaction's parts are rolled back", o.Outcome, o.Slot)}
	case o.Outcome == commit.Commit:
		log.Debug("federated commit", "slot", o.Slot)
		return nil
	}
	why := "a participant's part was not prepared before its validator's commit timeout"
	if prepareErr != nil {
		why = t.prepareFailure(prepareErr)
	}
	return &Error{Op: "federated commit", GID: gid, Code: pgerrcode.SerializationFailure,
		Err: fmt.Errorf("the validators decided ABORT in slot %d: %s", o.Slot, why)}
}

// federatedRequest names the parts of the written workers and signs the
// request; it returns the participant organizations, sorted. A written
// worker without an organization, or of an organization the federation
// does not know, cannot take part (0A000).
func (t *Txn) federatedRequest(gid string, written []*participant) (commit.Request, []string, error) {
	fed := t.coord.cfg.Federation
	byOrg := map[string][]commit.Part{}
	for _, p := range written {
		org := p.node.Organization
		switch {
		case org == "":
			return commit.Request{}, nil, &Error{Op: "federated commit", Node: p.node.ID, Addr: p.node.Addr(), GID: gid, Code: pgerrcode.FeatureNotSupported,
				Err: errors.New("a transaction that writes on an organization's workers cannot also write on a worker that belongs to no organization; it was rolled back")}
		case !fed.Membership.Has(org):
			return commit.Request{}, nil, &Error{Op: "federated commit", Node: p.node.ID, Addr: p.node.Addr(), GID: gid, Code: pgerrcode.FeatureNotSupported,
				Err: fmt.Errorf("organization %q is not a member of the federation; the transaction was rolled back", org)}
		}
		p.gid = gid + "_" + strconv.Itoa(int(p.node.ID))
		// The worker's name as its organization knows it: nodename and
		// nodeport exactly as in the catalog.
		byOrg[org] = append(byOrg[org], commit.Part{Worker: p.node.Host + ":" + strconv.Itoa(p.node.Port), GID: p.gid})
	}
	r := commit.Request{GID: gid, Created: time.Now().UnixNano()}
	orgs := make([]string, 0, len(byOrg))
	for org := range byOrg {
		orgs = append(orgs, org)
	}
	sort.Strings(orgs)
	for _, org := range orgs {
		parts := byOrg[org]
		sort.Slice(parts, func(i, j int) bool { return parts[i].GID < parts[j].GID })
		r.Participants = append(r.Participants, commit.OrgParts{Org: org, Parts: parts})
	}
	sr, err := commit.SignRequest(fed.Membership.Network(), fed.Key, r)
	if err != nil {
		return commit.Request{}, nil, &Error{Op: "federated commit", GID: gid, Code: pgerrcode.FeatureNotSupported,
			Err: fmt.Errorf("cannot make the commit request; the transaction was rolled back: %w", err)}
	}
	return sr, orgs, nil
}

// undecided is the error of a commit that stopped before asking for the
// decision (a failpoint standing for a coordinator that fails there): the
// validators decide without it.
func (t *Txn) undecided(gid string, err error) error {
	t.log.Warn("federated commit stopped before the decision; the validators will decide it", "gid", gid, "error", err)
	return &Error{Op: "federated commit", GID: gid, Code: pgerrcode.StatementCompletionUnknown,
		Err: fmt.Errorf("the coordinator stopped before the decision; the validators will decide it: %w", err)}
}

// prepareFailure describes the failed PREPAREs for an ABORT's message,
// naming each part's organization and worker.
func (t *Txn) prepareFailure(err error) string {
	var errs []error
	if we, ok := err.(WorkerErrors); ok {
		errs = we
	} else {
		errs = []error{err}
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		var de *Error
		if errors.As(e, &de) && de.Node != 0 {
			if p := t.part(de.Node); p != nil && p.node.Organization != "" {
				msgs = append(msgs, fmt.Sprintf("organization %s's part was not prepared (%v)", p.node.Organization, e))
				continue
			}
		}
		msgs = append(msgs, fmt.Sprintf("a part was not prepared (%v)", e))
	}
	return strings.Join(msgs, "; ")
}
