package planner

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pgfed/pgfed/catalog"
)

// sortKey is one ORDER BY item mapped to an output column.
type sortKey struct {
	key       SortKey
	by        *pg.SortBy
	collation []*pg.Node // COLLATE of the item or of its column
	goOK      bool
}

// goSortTypes are the types whose order a Go merge reproduces exactly.
var goSortTypes = map[catalog.Type]bool{
	catalog.TypeInt2: true, catalog.TypeInt4: true, catalog.TypeInt8: true, catalog.TypeOID: true,
	catalog.TypeFloat4: true, catalog.TypeFloat8: true, catalog.TypeNumeric: true, catalog.TypeBool: true,
	catalog.TypeDate: true, catalog.TypeTimestamp: true, catalog.TypeTimestamptz: true, catalog.TypeUUID: true,
}

// goSortable reports whether every key can be merged in Go.
func goSortable(keys []sortKey) bool {
	for _, k := range keys {
		if !k.goOK {
			return false
		}
	}
	return true
}

// combine returns the key as an ORDER BY item of a combine query.
func (k sortKey) combine() *pg.Node {
	var n *pg.Node = colNode(irCol(k.key.Column - 1))
	if k.collation != nil {
		n = &pg.Node{Node: &pg.Node_CollateClause{CollateClause: &pg.CollateClause{Arg: n, Collname: cloneList(k.collation), Location: -1}}}
	}
	return &pg.Node{Node: &pg.Node_SortBy{SortBy: &pg.SortBy{Node: n, SortbyDir: k.by.SortbyDir,
		SortbyNulls: k.by.SortbyNulls, UseOp: cloneList(k.by.UseOp), Location: -1}}}
}

// sortKeys maps the ORDER BY items to output columns, adding hidden
// columns (returned) for items that are not in the select list.
func sortKeys(q *query) ([]sortKey, []*pg.Node, error) {
	var keys []sortKey
	var hidden []*pg.Node
	for _, item := range q.s.SortClause {
		by := item.GetSortBy()
		if by == nil {
			return nil, nil, notPushable("odd ORDER BY")
		}
		e := by.Node
		k := sortKey{by: by}
		if cc := e.GetCollateClause(); cc != nil {
			k.collation = cc.Collname
		}
		i := matchOutput(q, e)
		if i < 0 {
			hidden = append(hidden, e)
			i = len(q.outs) + len(hidden) - 1
		}
		k.key.Column = i + 1
		k.key.Desc = by.SortbyDir == pg.SortByDir_SORTBY_DESC
		k.key.NullsFirst = by.SortbyNulls == pg.SortByNulls_SORTBY_NULLS_FIRST ||
			by.SortbyNulls == pg.SortByNulls_SORTBY_NULLS_DEFAULT && k.key.Desc
		var c colRef
		var ok bool
		if i < len(q.outs) && q.outs[i].ok {
			c, ok = q.outs[i].col, true
		} else if cr := e.GetColumnRef(); cr != nil {
			c, ok = resolveColumn(q.top, cr)
		}
		if ok && c.rel.def != nil {
			if j := c.rel.def.column(c.col); j >= 0 {
				col := c.rel.def.Columns[j]
				k.key.Type = col.Type
				if col.Collation != "" && k.collation == nil {
					k.collation = []*pg.Node{strNode(col.Collation)}
				}
				k.goOK = goSortTypes[col.Type] && len(by.UseOp) == 0 && k.collation == nil &&
					by.SortbyDir != pg.SortByDir_SORTBY_USING
			}
		}
		keys = append(keys, k)
	}
	return keys, hidden, nil
}

// matchOutput returns the output column an ORDER BY or DISTINCT ON item
// names (by position, by output name, or by being the same expression),
// or -1.
func matchOutput(q *query, e *pg.Node) int {
	if c := e.GetAConst(); c != nil {
		if iv, ok := c.Val.(*pg.A_Const_Ival); ok && iv.Ival.Ival >= 1 && int(iv.Ival.Ival) <= len(q.outs) {
			return int(iv.Ival.Ival) - 1
		}
		return -1
	}
	if cr := e.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
		if s := cr.Fields[0].GetString_(); s != nil {
			found := -1
			for i, o := range q.outs {
				if o.name == s.Sval {
					if found >= 0 {
						return -1
					}
					found = i
				}
			}
			if found >= 0 {
				return found
			}
		}
	}
	return matchExpr(q, e)
}

// matchExpr returns the output column computing the same expression as
// e, or -1.
func matchExpr(q *query, e *pg.Node) int {
	var c colRef
	var ok bool
	if cr := e.GetColumnRef(); cr != nil {
		c, ok = resolveColumn(q.top, cr)
	}
	for i, o := range q.outs {
		if ok && o.ok && o.col == c {
			return i
		}
		if o.val != nil && exprEqual(o.val, e) {
			return i
		}
	}
	return -1
}
