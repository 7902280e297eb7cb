package planner

import (
	"github.com/jackc/pgerrcode"
	"github.com/pgfed/pgfed/catalog"
)

// Param is one bound parameter value as the client sent it in Bind.
type Param struct {
	// Value is the value in the client's format.
	Value []byte
	// Binary is set for the binary format, else the value is text.
	Binary bool
	// Null is set for a NULL value.
	Null bool
	// Type is the parameter's type OID as the statement declared it
	// (ParameterDescription); 0 means the distribution column's type.
	// It says how to read a binary value: drivers send, say, a small
	// integer as int2 for an int4 column, which PostgreSQL converts.
	Type uint32
}

// errNullParam says a NULL parameter keeps no shard.
type nullParam struct{}

// Bind returns the plan with its tasks made for the given parameter
// values: shard pruning on $n happens here. A plan that is not Deferred
// is returned as it is. A deferred router plan whose values do not pin
// one shard binds its Alternative. The plan itself is not modified.
func (p *Plan) Bind(vals []Param) (*Plan, error) {
	if p.Kind == KindExplain && p.Explained != nil && p.Explained.Deferred {
		out := *p
		b, err := p.Explained.Bind(vals)
		if err != nil {
			return nil, err
		}
		out.Explained = b
		return &out, nil
	}
	if !p.Deferred {
		return p, nil
	}
	bp := boundParams(vals)
	out := *p
	out.Deferred = false
	out.Alternative = nil
	out.Subplans = nil
	for _, s := range p.Subplans {
		b, err := s.Plan.Bind(vals)
		if err != nil {
			return nil, err
		}
		s.Plan = b
		out.Subplans = append(out.Subplans, s)
	}
	if p.Fragment == nil {
		return &out, nil
	}
	if p.rows != nil {
		return p.bindRows(&out, bp)
	}
	if p.Kind == KindRouter && len(p.routerPrunes) > 0 {
		pos := -1
		for _, pr := range p.routerPrunes {
			s, all, err := evalNull(pr, p.Fragment.ShardCount, bp)
			if err != nil {
				return nil, err
			}
			if all || len(s) != 1 || pos >= 0 && s[0] != pos {
				if p.Alternative == nil {
					return nil, errorf(pgerrcode.NotNullViolation, "cannot perform an INSERT with NULL in the distribution column")
				}
				return p.Alternative.Bind(vals)
			}
			pos = s[0]
		}
		tasks, err := p.planner().tasks(p.Fragment, []int{pos})
		if err != nil {
			return nil, err
		}
		out.Tasks = tasks
		return &out, nil
	}
	s, all, err := evalNull(p.Fragment.Prune, p.Fragment.ShardCount, bp)
	if err != nil {
		return nil, err
	}
	if all {
		s = make([]int, p.Fragment.ShardCount)
		for i := range s {
			s[i] = i
		}
	}
	if len(s) == 0 {
		s = []int{0} // a false predicate: one shard answers with the right shape
	}
	if len(s) == 1 && p.Kind == KindMultiShard && p.Merge.Kind == MergeConcat && len(p.Subplans) == 0 {
		out.Kind = KindRouter
	}
	out.Tasks, err = p.planner().tasks(p.Fragment, s)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Error makes nullParam an error.
func (nullParam) Error() string { return "null parameter" }

// boundParams are the values of a Bind, read by the prune expressions.
type boundParams []Param

// value returns parameter k (1-based).
func (b boundParams) value(k int) (Param, error) {
	if k < 1 || k > len(b) {
		return Param{}, errorf(pgerrcode.ProtocolViolation, "bind message supplies %d parameters, but the plan needs $%d", len(b), k)
	}
	return b[k-1], nil
}

// hash hashes parameter k as a value of type t; a NULL is nullParam.
func (b boundParams) hash(k int, t catalog.Type) (int32, error) {
	v, err := b.value(k)
	if err != nil {
		return 0, err
	}
	if v.Null {
		return 0, nullParam{}
	}
	if v.Binary {
		return hashBinaryAs(t, catalog.Type(v.Type), v.Value)
	}
	return catalog.HashText(t, string(v.Value))
}

// text returns parameter k as text, for an organization column (text or
// varchar, whose binary form is the text itself); a NULL is nullParam.
func (b boundParams) text(k int) (string, error) {
	v, err := b.value(k)
	if err != nil {
		return "", err
	}
	if v.Null {
		return "", nullParam{}
	}
	return string(v.Value), nil
}

// evalNull evaluates a prune expression with bound parameters, reading
// a NULL parameter as "no shard" (col = NULL is never true).
func evalNull(pr Prune, n int, b boundParams) ([]int, bool, error) {
	switch pr.Op {
	case PruneParam, PruneOrgHash:
		h, err := b.hash(pr.Param, pr.Type)
		if _, ok := err.(nullParam); ok {
			return []int{}, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if pr.Op == PruneOrgHash {
			return pr.layout.ofHash(h), false, nil
		}
		return []int{catalog.ShardIndex(h, n)}, false, nil
	case PruneOrg:
		org, err := b.text(pr.Param)
		if _, ok := err.(nullParam); ok {
			return []int{}, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		return pr.layout.ofOrg(org), false, nil
	case PruneAnd, PruneOr:
		var acc []int
		accAll := pr.Op == PruneAnd
		for _, a := range pr.Args {
			s, all, err := evalNull(a, n, b)
			if err != nil {
				return nil, false, err
			}
			switch {
			case pr.Op == PruneOr && all:
				return nil, true, nil
			case pr.Op == PruneOr:
				acc = union(acc, s)
			case all:
			case accAll:
				acc, accAll = s, false
			default:
				acc = intersect(acc, s)
			}
		}
		if acc == nil && !accAll {
			acc = []int{}
		}
		return acc, accAll, nil
	}
	return pr.Eval(n, nil)
}

// planner returns the planner that made the plan, for making tasks.
func (p *Plan) planner() *Planner {
	if p.owner != nil {
		return p.owner
	}
	return New(p.cat, nil, 0)
}

// setOwner records the planner in a plan and the plans inside it.
func setOwner(pl *Plan, p *Planner) {
	if pl == nil {
		return
	}
	pl.owner = p
	setOwner(pl.Alternative, p)
	for _, s := range pl.Subplans {
		setOwner(s.Plan, p)
	}
	for _, s := range pl.Shipped {
		setOwner(s.Plan, p)
	}
	setOwner(pl.Fallback, p)
}

// hashBinaryAs hashes a binary parameter declared as decl for a
// distribution column of type col, as PostgreSQL would after converting
// the value to col. Within the integer family (int2, int4, int8) equal
// values hash alike, so the value is read and hashed as its own type; text,
// varchar and bpchar send their bytes as they are, so the column's hash
// applies (bpchar's ignores trailing blanks, as the conversion would).
// Other declared types are read as the column's type.
func hashBinaryAs(col, decl catalog.Type, b []byte) (int32, error) {
	switch {
	case decl == 0 || decl == col:
		return catalog.HashBinary(col, b)
	case intFamily(col) && intFamily(decl):
		return catalog.HashBinary(decl, b)
	default:
		return catalog.HashBinary(col, b)
	}
}

func intFamily(t catalog.Type) bool {
	return t == catalog.TypeInt2 || t == catalog.TypeInt4 || t == catalog.TypeInt8
}
