package consensus

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// TestScenarios runs the scripts under testdata/consensus (repository
// root). Regenerate with: go test ./consensus -run TestScenarios -rewrite
//
// Commands:
//
//	node id=A qset=3{A,B,C,D} [unsafe] [nt= ni= bt= bi=] [log]
//	    the node under test; every validator of its qset is a peer with
//	    the same qset unless declared with `peer`
//	peer id=B qset=...           a peer with its own quorum set
//	priority [round=N] A=1 B=5   priority hash per node (default: local
//	                             1000, others 1; neighbourhood hash 0)
//	valuehash x=5 y=1            value hash for echoing leader votes
//	validity x=invalid y=maybe   validity per value (default fully valid)
//	deliver                      input: "B PREP b=1:x p=1:x c=1 h=1
//	                             [slot=2] [qset=unknown]" per line
//	nominate [slot=1] value=x [prev=p]
//	tick [n=1]
//	bump [slot=1] value=x [force] start the ballot protocol directly
//	state [slot=1]               ballot and nomination state
//	restart                      new node restored from what it persisted
//	latest [slot=1]              LatestMessages
//	latestall [slot=1]           CurrentState (every node's latest)
//	purge below=N                Purge
//	decode                       input: hex; DecodeEnvelope result
//
// After deliver, nominate, tick and restart the node's Ready batch is
// printed ("send", "persist" when not also sent, "externalize") and
// acknowledged; with `log`, the core's log lines come first.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "../testdata/consensus", func(t *testing.T, path string) {
		h := &scenario{t: t}
		datadriven.RunTest(t, path, h.run)
	})
}

type scenario struct {
	t         *testing.T
	cfg       Config
	drv       *testDriver
	node      *Node
	qsets     map[string]Hash
	persisted map[string]Envelope
	logs      *strings.Builder
}

func (h *scenario) run(t *testing.T, d *datadriven.TestData) string {
	out, err := h.cmd(d)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return out
}

func arg(d *datadriven.TestData, key, def string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key {
			if len(a.Vals) == 0 {
				return "true"
			}
			return a.Vals[0]
		}
	}
	return def
}

func argU(d *datadriven.TestData, key string, def uint64) uint64 {
	v, err := strconv.ParseUint(arg(d, key, fmt.Sprint(def)), 10, 64)
	if err != nil {
		panic(err)
	}
	return v
}

func (h *scenario) cmd(d *datadriven.TestData) (string, error) {
	switch d.Cmd {
	case "node":
		id := arg(d, "id", "A")
		q, err := parseQSet(arg(d, "qset", ""))
		if err != nil {
			return "", err
		}
		h.drv = newTestDriver(id)
		h.logs = &strings.Builder{}
		h.cfg = Config{ID: nid(id), QSet: q, Driver: h.drv, UnsafeQuorum: arg(d, "unsafe", "") != "",
			NominationTimeout: argU(d, "nt", 1), NominationTimeoutIncrement: argU(d, "ni", 1),
			BallotTimeout: argU(d, "bt", 1), BallotTimeoutIncrement: argU(d, "bi", 1)}
		if arg(d, "log", "") != "" {
			h.cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: h.logs, Level: hclog.Debug, DisableTime: true})
		}
		h.persisted = map[string]Envelope{}
		if err := h.newNode(); err != nil {
			return "", err
		}
		h.qsets = map[string]Hash{}
		forAllNodes(&q, func(n quorum.NodeID) { h.qsets[nodeName(n)] = h.node.QSetHash() })
		return fmt.Sprintf("qset %s\n", h.node.QSetHash()), nil
	case "peer":
		q, err := parseQSet(arg(d, "qset", ""))
		if err != nil {
			return "", err
		}
		hash, err := h.node.AddQSet(q)
		if err != nil {
			return "", err
		}
		h.qsets[arg(d, "id", "")] = hash
		return "ok\n", nil
	case "priority":
		m := map[string]uint64{}
		round := uint32(0)
		for _, a := range d.CmdArgs {
			v, _ := strconv.ParseUint(a.Vals[0], 10, 64)
			if a.Key == "round" {
				round = uint32(v)
				continue
			}
			m[a.Key] = v
		}
		h.drv.priority[round] = m
		return "ok\n", nil
	case "valuehash":
		for _, a := range d.CmdArgs {
			v, _ := strconv.ParseUint(a.Vals[0], 10, 64)
			h.drv.valueHash[a.Key] = v
		}
		return "ok\n", nil
	case "validity":
		for _, a := range d.CmdArgs {
			lvl := FullyValid
			switch a.Vals[0] {
			case "invalid":
				lvl = Invalid
			case "maybe":
				lvl = MaybeValid
			}
			h.drv.validity[a.Key] = lvl
		}
		return "ok\n", nil
	case "deliver":
		var sb strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			from := fields[0]
			slot := uint64(1)
			qs := h.qsets[from]
			var rest []string
			for _, f := range fields[1:] {
				switch {
				case strings.HasPrefix(f, "slot="):
					slot, _ = strconv.ParseUint(f[5:], 10, 64)
				case f == "qset=unknown":
					qs = Hash{0xde, 0xad}
				default:
					rest = append(rest, f)
				}
			}
			pl, err := parseStatement(rest, qs)
			if err != nil {
				return "", fmt.Errorf("%s: %w", line, err)
			}
			err = h.node.Step(Envelope{Statement: Statement{NodeID: nid(from), Slot: slot, Pledge: pl}})
			if err != nil {
				var uq *UnknownQSetError
				if errors.As(err, &uq) {
					err = ErrUnknownQSet
				}
				fmt.Fprintf(&sb, "%s: %v\n", line, err)
			}
		}
		return sb.String() + h.ready(), nil
	case "nominate":
		err := h.node.Nominate(argU(d, "slot", 1), Value(arg(d, "value", "")), Value(arg(d, "prev", "")))
		if err != nil {
			return "", err
		}
		return h.ready(), nil
	case "bump":
		// test-only, as stellar-core's tests: start (or, with force, time
		// out) the ballot protocol without nomination.
		s := h.node.slot(argU(d, "slot", 1))
		s.ballot.bumpState(Value(arg(d, "value", "")), arg(d, "force", "") != "")
		return h.ready(), nil
	case "tick":
		for i := uint64(0); i < argU(d, "n", 1); i++ {
			h.node.Tick()
		}
		return h.ready(), nil
	case "state":
		return h.state(argU(d, "slot", 1)), nil
	case "restart":
		if err := h.newNode(); err != nil {
			return "", err
		}
		var envs []Envelope
		keys := make([]string, 0, len(h.persisted))
		for k := range h.persisted {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			envs = append(envs, h.persisted[k])
		}
		if err := h.node.Restore(envs); err != nil {
			return "", err
		}
		return fmt.Sprintf("restored %d envelopes\n", len(envs)) + h.ready(), nil
	case "purge":
		h.node.Purge(argU(d, "below", 0))
		return "ok\n", nil
	case "latestall":
		var sb strings.Builder
		for _, e := range h.node.CurrentState(argU(d, "slot", 1)) {
			fmt.Fprintf(&sb, "%s\n", envString(e))
		}
		return sb.String(), nil
	case "latest":
		var sb strings.Builder
		for _, e := range h.node.LatestMessages(argU(d, "slot", 1)) {
			fmt.Fprintf(&sb, "%s\n", envString(e))
		}
		return sb.String(), nil
	case "decode":
		b, err := hex.DecodeString(strings.Join(strings.Fields(d.Input), ""))
		if err != nil {
			return "", err
		}
		env, err := DecodeEnvelope(b)
		if err != nil {
			return "", err
		}
		return envString(env) + "\n", nil
	}
	return "", fmt.Errorf("unknown command %q", d.Cmd)
}

func (h *scenario) newNode() error {
	var qsets []quorum.QSet
	if h.node != nil {
		for _, q := range h.node.qsets {
			qsets = append(qsets, *q)
		}
	}
	n, err := NewNode(h.cfg)
	if err != nil {
		return err
	}
	for _, q := range qsets {
		if _, err := n.AddQSet(q); err != nil {
			return err
		}
	}
	h.node = n
	return nil
}

func envString(e Envelope) string {
	return fmt.Sprintf("%s@%d %s", nodeName(e.Statement.NodeID), e.Statement.Slot, e.Statement)
}

func (h *scenario) ready() string {
	var sb strings.Builder
	if h.logs != nil && h.logs.Len() > 0 {
		for _, l := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
			fmt.Fprintf(&sb, "log: %s\n", l)
		}
		h.logs.Reset()
	}
	if !h.node.HasReady() {
		return sb.String()
	}
	rd := h.node.Ready()
	sent := map[string]bool{}
	for _, e := range rd.Send {
		sent[envString(e)] = true
	}
	for _, e := range rd.Persist {
		h.persisted[fmt.Sprintf("%020d/%v", e.Statement.Slot, e.Statement.Type() == TypeNominate)] = e
		if !sent[envString(e)] {
			fmt.Fprintf(&sb, "persist %s\n", envString(e))
		}
	}
	for _, e := range rd.Send {
		fmt.Fprintf(&sb, "send %s\n", envString(e))
	}
	for _, x := range rd.Externalized {
		fmt.Fprintf(&sb, "externalize %d=%s\n", x.Slot, x.Value)
	}
	h.node.Advance()
	return sb.String()
}

func (h *scenario) state(slot uint64) string {
	s := h.node.slots[slot]
	if s == nil {
		return "no slot\n"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "ballot: %s heard=%v\n", &s.ballot, s.ballot.heard)
	nm := &s.nomination
	var leaders []string
	for _, id := range sortedLeaderIDs(nm.leaders) {
		leaders = append(leaders, nodeName(id))
	}
	fmt.Fprintf(&sb, "nomination: round=%d started=%v X=%s Y=%s Z=%s leaders=%v\n", nm.round, nm.started,
		valueList(nm.votes), valueList(nm.accepted), valueList(nm.candidates), leaders)
	timer := func(t timer) string {
		if !t.armed {
			return "-"
		}
		return fmt.Sprintf("in %d", t.deadline-h.node.now)
	}
	fmt.Fprintf(&sb, "timers: nomination=%s ballot=%s fully-validated=%v\n", timer(s.nominationTimer), timer(s.ballotTimer), s.fullyValidated)
	return sb.String()
}
