package planner

import (
	pg "github.com/pganalyze/pg_query_go/v5"
)

// colName returns the name PostgreSQL gives an output column
// (FigureColname): the alias, else a name derived from the expression,
// else "?column?".
func colName(t *pg.ResTarget) string {
	if t.Name != "" {
		return t.Name
	}
	if s, ok := figure(t.Val); ok {
		return s
	}
	return "?column?"
}

// figure derives a column name from an expression as PostgreSQL's
// FigureColnameInternal does for the common node types.
func figure(n *pg.Node) (string, bool) {
	switch x := n.GetNode().(type) {
	case *pg.Node_ColumnRef:
		f := x.ColumnRef.Fields
		if len(f) > 0 {
			if s := f[len(f)-1].GetString_(); s != nil {
				return s.Sval, true
			}
		}
	case *pg.Node_AIndirection:
		for i := len(x.AIndirection.Indirection) - 1; i >= 0; i-- {
			if s := x.AIndirection.Indirection[i].GetString_(); s != nil {
				return s.Sval, true
			}
		}
		return figure(x.AIndirection.Arg)
	case *pg.Node_FuncCall:
		f := x.FuncCall.Funcname
		if len(f) > 0 {
			if s := f[len(f)-1].GetString_(); s != nil {
				return s.Sval, true
			}
		}
	case *pg.Node_AExpr:
		if x.AExpr.Kind == pg.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif", true
		}
	case *pg.Node_TypeCast:
		if s, ok := figure(x.TypeCast.Arg); ok {
			return s, true
		}
		if tn := x.TypeCast.TypeName; tn != nil && len(tn.Names) > 0 {
			if s := tn.Names[len(tn.Names)-1].GetString_(); s != nil {
				return s.Sval, true
			}
		}
	case *pg.Node_CollateClause:
		return figure(x.CollateClause.Arg)
	case *pg.Node_SubLink:
		switch x.SubLink.SubLinkType {
		case pg.SubLinkType_EXISTS_SUBLINK:
			return "exists", true
		case pg.SubLinkType_ARRAY_SUBLINK:
			return "array", true
		case pg.SubLinkType_EXPR_SUBLINK:
			if s := x.SubLink.Subselect.GetSelectStmt(); s != nil && len(s.TargetList) == 1 {
				if rt := s.TargetList[0].GetResTarget(); rt != nil {
					if rt.Name != "" {
						return rt.Name, true
					}
					return figure(rt.Val)
				}
			}
		}
	case *pg.Node_CaseExpr:
		if s, ok := figure(x.CaseExpr.Defresult); ok {
			return s, true
		}
		return "case", true
	case *pg.Node_AArrayExpr:
		return "array", true
	case *pg.Node_RowExpr:
		return "row", true
	case *pg.Node_CoalesceExpr:
		return "coalesce", true
	case *pg.Node_MinMaxExpr:
		if x.MinMaxExpr.Op == pg.MinMaxOp_IS_GREATEST {
			return "greatest", true
		}
		return "least", true
	case *pg.Node_SqlvalueFunction:
		return sqlValueName(x.SqlvalueFunction.Op)
	case *pg.Node_XmlExpr, *pg.Node_XmlSerialize:
		return "xmlserialize", false
	case *pg.Node_GroupingFunc:
		return "grouping", true
	}
	return "", false
}

// sqlValueName names the SQL value functions.
func sqlValueName(op pg.SQLValueFunctionOp) (string, bool) {
	switch op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		return "current_date", true
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N:
		return "current_time", true
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
		return "current_timestamp", true
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIME, pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N:
		return "localtime", true
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		return "localtimestamp", true
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:
		return "current_role", true
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_USER:
		return "current_user", true
	case pg.SQLValueFunctionOp_SVFOP_USER:
		return "user", true
	case pg.SQLValueFunctionOp_SVFOP_SESSION_USER:
		return "session_user", true
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
		return "current_catalog", true
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
		return "current_schema", true
	}
	return "", false
}
