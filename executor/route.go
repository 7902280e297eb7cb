package executor

import (
	"strings"
)

// command is what the first words of a statement say it is, as far as the
// session cares before planning: transaction control and settings are
// mirrored on the workers, COPY and EXPLAIN are run by the session itself.
type command uint8

const (
	cmdOther    command = iota // anything else: planned
	cmdBegin                   // BEGIN, START TRANSACTION
	cmdCommit                  // COMMIT, END
	cmdRollback                // ROLLBACK, ABORT (not ROLLBACK TO, not ROLLBACK PREPARED)
	cmdSavepoint
	cmdRelease
	cmdRollbackTo
	cmdPrepareTxn // PREPARE TRANSACTION
	cmdSet        // SET, RESET (the session's settings)
	cmdCopy
	cmdExplain
	cmdDDL // CREATE, ALTER, DROP, TRUNCATE...: local DDL invalidates table shapes
	// cmdInsertSelect is an INSERT ... SELECT the planner leaves to the
	// session (never returned by classify).
	cmdInsertSelect
	// cmdWrite is a write planned again at each execution, with the
	// values the coordinator computes for it (dmlvalues.go; never
	// returned by classify).
	cmdWrite
)

// String names the command.
func (c command) String() string {
	return [...]string{"other", "begin", "commit", "rollback", "savepoint", "release", "rollback to",
		"prepare transaction", "set", "copy", "explain", "ddl", "insert select", "write"}[c]
}

// classify looks at the first two words of sql, skipping white space and
// comments; it parses nothing. Several statements in one string are
// classified by the first only when the string has no other statement
// (a ';' followed by more than white space makes it cmdOther).
func classify(sql string) command {
	w1, rest := firstWord(sql)
	if w1 == "" {
		return cmdOther
	}
	switch w1 {
	case "select", "insert", "update", "delete", "with", "values", "table":
		return cmdOther
	}
	multi := hasSecondStatement(sql)
	w2, _ := firstWord(rest)
	switch w1 {
	case "begin", "start":
		if !multi && (w1 == "begin" || w2 == "transaction") {
			return cmdBegin
		}
	case "commit", "end":
		if !multi && w2 != "prepared" {
			return cmdCommit
		}
	case "rollback", "abort":
		if multi {
			return cmdOther
		}
		switch w2 {
		case "prepared":
			return cmdOther
		case "to":
			return cmdRollbackTo
		case "work", "transaction":
			if w3, _ := firstWord(afterWord(rest)); w3 == "to" {
				return cmdRollbackTo
			}
		}
		return cmdRollback
	case "savepoint":
		if !multi {
			return cmdSavepoint
		}
	case "release":
		if !multi {
			return cmdRelease
		}
	case "prepare":
		if !multi && w2 == "transaction" {
			return cmdPrepareTxn
		}
	case "set", "reset":
		if !multi {
			return cmdSet
		}
	case "copy":
		return cmdCopy
	case "explain":
		return cmdExplain
	case "create", "alter", "drop", "truncate", "comment", "grant", "revoke":
		return cmdDDL
	}
	return cmdOther
}

// firstWord returns the first word of s in lower case (letters and
// underscores) after white space and comments, and the text after it.
func firstWord(s string) (string, string) {
	s = skipSpace(s)
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] == '_') {
		i++
	}
	return strings.ToLower(s[:i]), s[i:]
}

// afterWord returns s after its first word.
func afterWord(s string) string {
	_, rest := firstWord(s)
	return rest
}

// skipSpace skips white space and comments.
func skipSpace(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n\f")
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return ""
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s, "*/")
			if i < 0 {
				return ""
			}
			s = s[i+2:]
		default:
			return s
		}
	}
}

// hasSecondStatement reports whether a ';' outside quotes is followed by
// more than white space and comments. It is a cheap over-approximation:
// a ';' inside a dollar-quoted body counts too.
func hasSecondStatement(sql string) bool {
	inQuote := byte(0)
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case inQuote != 0:
			if c == inQuote {
				inQuote = 0
			}
		case c == '\'' || c == '"':
			inQuote = c
		case c == ';':
			if skipSpace(sql[i+1:]) != "" && strings.Trim(skipSpace(sql[i+1:]), "; \t\r\n") != "" {
				return true
			}
		}
	}
	return false
}
