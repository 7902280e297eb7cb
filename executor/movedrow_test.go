package executor

import "testing"

// TestSetListEnd checks where the cheap test for a moving UPDATE stops
// reading the SET list: at a WHERE or RETURNING outside parentheses and
// quotes.
func TestSetListEnd(t *testing.T) {
	for _, tc := range []struct{ sql, rest string }{
		{"UPDATE t SET a = 1 WHERE id = 2", "WHERE id = 2"},
		{"UPDATE t SET a = (SELECT 1 WHERE true), id = 5 WHERE id = 2", "WHERE id = 2"},
		{"UPDATE t SET a = 'where', id = 5 Where id = 2", "Where id = 2"},
		{`UPDATE t SET "where" = 1, id = 5 RETURNING id`, "RETURNING id"},
		{"UPDATE t SET nowhere = 1, returning_x = 2", ""},
		{"UPDATE t SET a = 'unterminated", ""},
	} {
		set := wordIndexFold(tc.sql, "set", 0)
		if got := tc.sql[setListEnd(tc.sql, set+3):]; got != tc.rest {
			t.Errorf("%s: rest %q, want %q", tc.sql, got, tc.rest)
		}
	}
}

// TestWordIndexFold checks the whole-word, case-folded search.
func TestWordIndexFold(t *testing.T) {
	for _, tc := range []struct {
		s, word string
		want    int
	}{
		{"UPDATE t SET id = 1", "id", 13},
		{"UPDATE t SET uid = 1, id_x = 2", "id", -1},
		{`SET "Id" = 1`, "id", 5},
		{"set", "SET", 0},
	} {
		if got := wordIndexFold(tc.s, tc.word, 0); got != tc.want {
			t.Errorf("wordIndexFold(%q, %q) = %d, want %d", tc.s, tc.word, got, tc.want)
		}
	}
}
