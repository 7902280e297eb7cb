package consensus

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// Helpers shared by the unit and datadriven tests: short node names, a
// compact qset syntax T{A,B,2{C,D}}, a statement parser matching
// Statement.String, and a scriptable test driver.

func nid(name string) quorum.NodeID {
	var id quorum.NodeID
	copy(id[:], name)
	return id
}

func nodeName(id quorum.NodeID) string {
	return strings.TrimRight(string(id[:]), "\x00")
}

func parseQSet(s string) (quorum.QSet, error) {
	q, rest, err := parseQSetPrefix(strings.ReplaceAll(s, " ", ""))
	if err == nil && rest != "" {
		err = fmt.Errorf("trailing %q", rest)
	}
	return q, err
}

func parseQSetPrefix(s string) (quorum.QSet, string, error) {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return quorum.QSet{}, s, fmt.Errorf("qset %q: want T{...}", s)
	}
	t, err := strconv.Atoi(s[:i])
	if err != nil {
		return quorum.QSet{}, s, err
	}
	q := quorum.QSet{Threshold: uint32(t)}
	s = s[i+1:]
	for {
		if s == "" {
			return q, s, fmt.Errorf("unterminated qset")
		}
		if s[0] == '}' {
			return q, s[1:], nil
		}
		if s[0] == ',' {
			s = s[1:]
			continue
		}
		if s[0] >= '0' && s[0] <= '9' {
			in, rest, err := parseQSetPrefix(s)
			if err != nil {
				return q, rest, err
			}
			q.InnerSets = append(q.InnerSets, in)
			s = rest
			continue
		}
		j := strings.IndexAny(s, ",}")
		if j < 0 {
			return q, s, fmt.Errorf("unterminated qset")
		}
		q.Validators = append(q.Validators, nid(s[:j]))
		s = s[j:]
	}
}

func parseBallot(s string) (Ballot, error) {
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return Ballot{}, fmt.Errorf("ballot %q: want n:value", s)
	}
	n, err := parseCounter(s[:i])
	return Ballot{Counter: n, Value: Value(s[i+1:])}, err
}

func parseCounter(s string) (uint32, error) {
	if s == "inf" {
		return Infinite, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

func parseValues(s string) ([]Value, error) {
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("values %q: want [a,b]", s)
	}
	s = s[1 : len(s)-1]
	if s == "" {
		return nil, nil
	}
	var out []Value
	for _, p := range strings.Split(s, ",") {
		out = append(out, Value(p))
	}
	return out, nil
}

// parseStatement parses "KIND field=value ..." as printed by
// Statement.String; qset is the hash to put in the statement.
func parseStatement(fields []string, qset Hash) (Pledge, error) {
	if len(fields) == 0 {
		return nil, fmt.Errorf("empty statement")
	}
	kv := map[string]string{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("field %q: want k=v", f)
		}
		kv[k] = v
	}
	var err error
	ballot := func(k string) *Ballot {
		s, ok := kv[k]
		if !ok || err != nil {
			return nil
		}
		b, e := parseBallot(s)
		if e != nil {
			err = e
		}
		return &b
	}
	counter := func(k string) uint32 {
		s, ok := kv[k]
		if !ok || err != nil {
			return 0
		}
		n, e := parseCounter(s)
		if e != nil {
			err = e
		}
		return n
	}
	switch fields[0] {
	case "NOM":
		var p Nominate
		p.QSetHash = qset
		if p.Votes, err = parseValues(kv["votes"]); err != nil {
			return nil, err
		}
		if s, ok := kv["acc"]; ok {
			p.Accepted, err = parseValues(s)
		}
		return p, err
	case "PREP":
		p := Prepare{QSetHash: qset, Prepared: ballot("p"), PreparedPrime: ballot("p'"), NC: counter("c"), NH: counter("h")}
		if b := ballot("b"); b != nil {
			p.Ballot = *b
		}
		return p, err
	case "CONF":
		p := Confirm{QSetHash: qset, NPrepared: counter("p"), NCommit: counter("c"), NH: counter("h")}
		if b := ballot("b"); b != nil {
			p.Ballot = *b
		}
		return p, err
	case "EXT":
		p := Externalize{CommitQSetHash: qset, NH: counter("h")}
		if b := ballot("c"); b != nil {
			p.Commit = *b
		}
		return p, err
	}
	return nil, fmt.Errorf("unknown statement kind %q", fields[0])
}

// testDriver is a scriptable Driver: per-value validity, combine = the
// candidates joined with "+", node priorities per round from a table
// (neighbourhood hash 0, so every weighted node is a neighbour), value
// hashes from a table.
type testDriver struct {
	validity  map[string]ValidationLevel
	priority  map[uint32]map[string]uint64 // round (0 = any) -> node -> priority
	valueHash map[string]uint64
	local     string
}

func newTestDriver(local string) *testDriver {
	return &testDriver{validity: map[string]ValidationLevel{}, priority: map[uint32]map[string]uint64{}, valueHash: map[string]uint64{}, local: local}
}

func (d *testDriver) Validate(slot uint64, v Value, nomination bool) ValidationLevel {
	if l, ok := d.validity[string(v)]; ok {
		return l
	}
	return FullyValid
}

func (d *testDriver) Combine(slot uint64, cands []Value) Value {
	parts := make([]string, len(cands))
	for i, c := range cands {
		parts[i] = string(c)
	}
	sort.Strings(parts)
	return Value(strings.Join(parts, "+"))
}

func (d *testDriver) HashNode(slot uint64, prev Value, priority bool, round uint32, node quorum.NodeID) uint64 {
	if !priority {
		return 0
	}
	name := nodeName(node)
	if m, ok := d.priority[round]; ok {
		return m[name]
	}
	if m, ok := d.priority[0]; ok {
		return m[name]
	}
	if name == d.local {
		return 1000
	}
	return 1
}

func (d *testDriver) HashValue(slot uint64, prev Value, round uint32, v Value) uint64 {
	return d.valueHash[string(v)]
}
