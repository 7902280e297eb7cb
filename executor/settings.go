package executor

import (
	"strconv"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/planner"
)

// Settings the session reads itself. They are also passed through to the
// metadata database (as placeholder settings), so SHOW works.
const (
	settingLogRemote      = "citus.log_remote_commands"
	settingExplainAll     = "citus.explain_all_tasks"
	settingMaxResultBytes = "citus.max_intermediate_result_size" // kB, as in Citus
)

// settings are the session's values of the settings above. Like
// PostgreSQL's, a SET LOCAL lasts until the transaction ends; a plain SET
// is kept even when the transaction rolls back (a simplification: in
// PostgreSQL it would be undone).
type settings struct {
	logRemote  bool
	explainAll bool
	maxRows    int64 // 0: the handler's default
	maxBytes   int64 // 0: the handler's default
	maxShipped int64 // 0: defaultMaxShippedRows (ship.go)

	statementTimeout time.Duration // 0: none

	local map[string]string // SET LOCAL values of this transaction
	saved map[string]string // values to restore at the end of the transaction
}

// isOurs reports whether a setting name is one the session reads.
func isOurs(name string) bool {
	switch name {
	case settingLogRemote, settingExplainAll, settingMaxResultBytes, planner.MaxIntermediateRowsSetting, settingStatementTimeout,
		planner.MaxShippedRowsSetting:
		return true
	}
	return false
}

// set records a value ("" resets to the default).
func (s *settings) set(name, value string) {
	b := parseBool(value)
	n, _ := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	switch name {
	case settingLogRemote:
		s.logRemote = b
	case settingExplainAll:
		s.explainAll = b
	case planner.MaxIntermediateRowsSetting:
		s.maxRows = n
	case planner.MaxShippedRowsSetting:
		s.maxShipped = n
	case settingMaxResultBytes:
		s.maxBytes = n * 1024
	case settingStatementTimeout:
		s.statementTimeout = parseTimeout(value)
	}
}

// get returns a setting's current value as text.
func (s *settings) get(name string) string {
	switch name {
	case settingLogRemote:
		return strconv.FormatBool(s.logRemote)
	case settingExplainAll:
		return strconv.FormatBool(s.explainAll)
	case planner.MaxIntermediateRowsSetting:
		return strconv.FormatInt(s.maxRows, 10)
	case planner.MaxShippedRowsSetting:
		return strconv.FormatInt(s.maxShipped, 10)
	case settingMaxResultBytes:
		return strconv.FormatInt(s.maxBytes/1024, 10)
	case settingStatementTimeout:
		return strconv.FormatInt(s.statementTimeout.Milliseconds(), 10)
	}
	return ""
}

// endTransaction restores the values SET LOCAL changed.
func (s *settings) endTransaction() {
	for k, v := range s.saved {
		s.set(k, v)
	}
	s.saved, s.local = nil, nil
}

// parseBool reads a PostgreSQL boolean setting.
func parseBool(v string) bool {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(v), "'")) {
	case "on", "true", "yes", "1", "t", "y":
		return true
	}
	return false
}

// setStatement is what a SET or RESET statement changes for the session.
type setStatement struct {
	name      string // lower case; "" for RESET ALL
	value     string // "" to reset
	local     bool
	resetAll  bool
	isolation dtx.Isolation // SET TRANSACTION / SESSION CHARACTERISTICS
	readOnly  *bool
	session   bool // SET SESSION CHARACTERISTICS AS TRANSACTION
	txnChars  bool // changes transaction characteristics
}

// parseSet parses a SET or RESET statement; ok is false for text that is
// not one statement of those kinds.
func parseSet(sql string) (setStatement, bool) {
	var st setStatement
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return st, false
	}
	v := tree.Stmts[0].Stmt.GetVariableSetStmt()
	if v == nil {
		return st, false
	}
	st.local = v.IsLocal
	st.name = strings.ToLower(v.Name)
	switch v.Kind {
	case pg.VariableSetKind_VAR_SET_VALUE:
		var parts []string
		for _, a := range v.Args {
			parts = append(parts, constText(a))
		}
		st.value = strings.Join(parts, ",")
	case pg.VariableSetKind_VAR_RESET_ALL:
		st.resetAll = true
	case pg.VariableSetKind_VAR_SET_MULTI:
		if st.name == "transaction" || st.name == "session characteristics" {
			st.txnChars = true
			st.session = st.name == "session characteristics"
			st.isolation, st.readOnly = txnOptions(v.Args)
		}
	}
	return st, true
}

// constText returns the text of a constant argument.
func constText(n *pg.Node) string {
	c := n.GetAConst()
	if c == nil {
		return ""
	}
	switch {
	case c.GetSval() != nil:
		return c.GetSval().Sval
	case c.GetIval() != nil:
		return strconv.FormatInt(int64(c.GetIval().Ival), 10)
	case c.GetFval() != nil:
		return c.GetFval().Fval
	case c.GetBoolval() != nil:
		return strconv.FormatBool(c.GetBoolval().Boolval)
	}
	return ""
}

// txnOptions reads transaction_isolation and transaction_read_only from
// the options of BEGIN or SET TRANSACTION.
func txnOptions(opts []*pg.Node) (dtx.Isolation, *bool) {
	iso := dtx.IsolationDefault
	var ro *bool
	for _, o := range opts {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		switch d.Defname {
		case "transaction_isolation":
			switch strings.ToLower(constText(d.Arg)) {
			case "read committed", "read uncommitted":
				iso = dtx.ReadCommitted
			case "repeatable read":
				iso = dtx.RepeatableRead
			case "serializable":
				iso = dtx.Serializable
			}
		case "transaction_read_only":
			b := constText(d.Arg) == "1" || constText(d.Arg) == "true"
			ro = &b
		}
	}
	return iso, ro
}

// parseTransaction returns the options and savepoint name of a
// transaction control statement.
func parseTransaction(sql string) (opts dtx.TxnOptions, savepoint string, ok bool) {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return opts, "", false
	}
	t := tree.Stmts[0].Stmt.GetTransactionStmt()
	if t == nil {
		return opts, "", false
	}
	iso, ro := txnOptions(t.Options)
	opts.Isolation = iso
	if ro != nil {
		opts.ReadOnly = *ro
	}
	return opts, t.SavepointName, true
}
