package quorum

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Exit codes of `pgfed quorum check`.
const (
	ExitIntersecting = 0 // every two quorums intersect
	ExitSplit        = 1 // two disjoint quorums exist
	ExitNoQuorum     = 2 // there is no quorum at all
	ExitBadInput     = 3 // the network could not be read, or the check was interrupted
)

// Report is the outcome of Check, printable as text or JSON. Nodes are
// written as Stellar strkeys ("G..."); Names maps them to display names.
type Report struct {
	Status     string `json:"status"` // Status.String(), or "error"
	Intersects bool   `json:"intersects"`
	NoQuorum   bool   `json:"noQuorum"`
	Error      string `json:"error,omitempty"`
	// Nodes counts every node, with or without a quorum set.
	Nodes int `json:"nodes"`
	// WithoutQuorumSet lists the nodes whose quorum set is absent or empty.
	WithoutQuorumSet []string `json:"withoutQuorumSet,omitempty"`
	// IgnoredQuorumSets maps nodes to the sanity rule their quorum set breaks.
	IgnoredQuorumSets map[string]string `json:"ignoredQuorumSets,omitempty"`
	// Split holds two disjoint minimal quorums.
	Split [][]string `json:"split,omitempty"`
	// QuorumComponent is the component of the dependency graph that holds
	// every minimal quorum (when the network has quorums and no split was
	// found between components).
	QuorumComponent []string `json:"quorumComponent,omitempty"`
	// MinimalQuorums, MinimalBlockingSets and MinimalSplittingSets are
	// computed for networks of at most MaxDetailNodes nodes; otherwise
	// MinimalSetsSkipped says why they are absent.
	MinimalQuorums       [][]string `json:"minimalQuorums,omitempty"`
	MinimalBlockingSets  [][]string `json:"minimalBlockingSets,omitempty"`
	MinimalSplittingSets [][]string `json:"minimalSplittingSets,omitempty"`
	MinimalSetsSkipped   string     `json:"minimalSetsSkipped,omitempty"`
	// Names maps node keys to their names, when the input gave them.
	Names map[string]string `json:"names,omitempty"`
}

// Check reads a network in the stellarbeat format (ParseStellarbeat),
// checks quorum intersection and, for networks of at most MaxDetailNodes
// nodes, computes the minimal quorums, blocking sets and splitting sets.
// It returns the report and the exit code of `pgfed quorum check`; bad input
// gives ExitBadInput and a report whose Error says what is wrong.
func Check(ctx context.Context, data []byte) (*Report, int) {
	net, err := ParseStellarbeat(data)
	if err != nil {
		return &Report{Status: "error", Error: err.Error()}, ExitBadInput
	}
	return CheckNetwork(ctx, net)
}

// CheckNetwork is Check for a network already in memory.
func CheckNetwork(ctx context.Context, net *Network) (*Report, int) {
	ids := net.Nodes()
	r := &Report{Nodes: len(ids), Names: map[string]string{}}
	for _, id := range ids {
		if name, ok := net.Names[id]; ok {
			r.Names[id.Strkey()] = name
		}
		q := net.QSets[id]
		if q == nil {
			r.WithoutQuorumSet = append(r.WithoutQuorumSet, id.Strkey())
			continue
		}
		if err := q.Sane(false); err != nil {
			if r.IgnoredQuorumSets == nil {
				r.IgnoredQuorumSets = map[string]string{}
			}
			r.IgnoredQuorumSets[id.Strkey()] = err.Error()
		}
	}
	res, err := CheckIntersection(ctx, net)
	if err != nil {
		r.Status, r.Error = "error", err.Error()
		return r, ExitBadInput
	}
	r.Status = res.Status().String()
	r.Intersects, r.NoQuorum = res.Intersects, res.NoQuorum
	r.QuorumComponent = strkeys(res.QuorumComponent)
	if res.Split != nil {
		r.Split = [][]string{strkeys(res.Split[0]), strkeys(res.Split[1])}
	}
	sets, err := FindMinimalSets(ctx, net)
	switch {
	case errors.Is(err, ErrTooLarge):
		r.MinimalSetsSkipped = err.Error()
	case err != nil:
		r.Status, r.Error = "error", err.Error()
		return r, ExitBadInput
	default:
		r.MinimalQuorums = strkeyLists(sets.Quorums)
		r.MinimalBlockingSets = strkeyLists(sets.BlockingSets)
		r.MinimalSplittingSets = strkeyLists(sets.SplittingSets)
	}
	switch res.Status() {
	case Split:
		return r, ExitSplit
	case NoQuorum:
		return r, ExitNoQuorum
	}
	return r, ExitIntersecting
}

func strkeys(ids []NodeID) []string {
	if ids == nil {
		return nil
	}
	r := make([]string, len(ids))
	for i, id := range ids {
		r[i] = id.Strkey()
	}
	return r
}

func strkeyLists(l [][]NodeID) [][]string {
	r := make([][]string, len(l))
	for i, ids := range l {
		r[i] = strkeys(ids)
	}
	return r
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes a short human-readable verdict.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	switch {
	case r.Error != "":
		fmt.Fprintf(&b, "error: %s\n", r.Error)
	case r.NoQuorum:
		fmt.Fprintf(&b, "no quorum: no set of the %d nodes forms a quorum\n", r.Nodes)
	case r.Split != nil:
		fmt.Fprintf(&b, "quorums do NOT intersect: two disjoint quorums\n")
		for i, q := range r.Split {
			fmt.Fprintf(&b, "  quorum %d: %s\n", i+1, r.names(q))
		}
	default:
		fmt.Fprintf(&b, "all quorums intersect (%d nodes; minimal quorums within a component of %d)\n", r.Nodes, len(r.QuorumComponent))
	}
	if r.Error == "" {
		if len(r.WithoutQuorumSet) > 0 {
			fmt.Fprintf(&b, "note: %d nodes have no quorum set and cannot be in a quorum: %s\n", len(r.WithoutQuorumSet), r.names(r.WithoutQuorumSet))
		}
		keys := make([]string, 0, len(r.IgnoredQuorumSets))
		for k := range r.IgnoredQuorumSets {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "warning: quorum set of %s ignored: %s\n", r.name(k), r.IgnoredQuorumSets[k])
		}
		if r.MinimalSetsSkipped == "" {
			fmt.Fprintf(&b, "minimal quorums: %d, minimal blocking sets: %d (smallest %d), minimal splitting sets: %d (smallest %d)\n",
				len(r.MinimalQuorums), len(r.MinimalBlockingSets), smallest(r.MinimalBlockingSets),
				len(r.MinimalSplittingSets), smallest(r.MinimalSplittingSets))
		} else {
			fmt.Fprintf(&b, "minimal sets not computed: %s\n", r.MinimalSetsSkipped)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func smallest(l [][]string) int {
	if len(l) == 0 {
		return 0
	}
	return len(l[0]) // lists are sorted by size
}

func (r *Report) name(k string) string {
	if n, ok := r.Names[k]; ok {
		return n + " (" + k[:5] + "…)"
	}
	return k
}

func (r *Report) names(ks []string) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = r.name(k)
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}
