package planner

import (
	"strings"

	"github.com/pgfed/pgfed/catalog"
)

// The shape cache serves the hot path of the simple query protocol:
// router statements that differ only in their literals ("... WHERE aid =
// 42", "... WHERE aid = 43"). A statement's shape is its text with every
// literal's contents blanked; a router plan pinned by literals alone is
// stored under its shape as token positions (where the table names and
// the pinning literals are). Another statement of the same shape is then
// planned with no parse at all: lex it, hash the literals at those
// positions, cut the text at the table names. Only text-cut router plans
// are cached this way: for them the literals matter only through the
// shard they pick; every other plan depends on its literals' values.

// litKind is the class of a literal token, which decides how the parser
// types it (and so whether it pins a shard).
type litKind uint8

const (
	litString  litKind = iota + 1 // a plain '...' string
	litInt                        // digits that fit an int4
	litNumeric                    // any other number
)

// tok is a token of a statement's shape.
type tok struct {
	start, end int
	lit        litKind // 0 for an identifier
}

// shapeEntry is a router plan stored by shape.
type shapeEntry struct {
	slots     []Slot
	slotToks  []int
	lits      []shapeLit
	count     int
	shardNote string
	modify    bool
}

// shapeLit is a pinning literal of a shape.
type shapeLit struct {
	tok  int
	typ  catalog.Type
	kind litKind
}

// scanShape lexes sql into identifier and literal tokens and returns its
// shape key. ok is false for text the shape cache does not handle (E”
// strings, dollar quotes, numbers glued to names).
func scanShape(sql string) (key string, toks []tok, ok bool) {
	var b strings.Builder
	b.Grow(len(sql))
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-', c == '/' && i+1 < len(sql) && sql[i+1] == '*', c == '$':
			return "", nil, false
		case c == '\'':
			l := lexer{s: sql, pos: i}
			l.skipString(false)
			if l.pos > len(sql) || sql[l.pos-1] != '\'' || l.pos-i < 2 {
				return "", nil, false
			}
			toks = append(toks, tok{start: i, end: l.pos, lit: litString})
			b.WriteString("'\x00'")
			i = l.pos
		case c == '"':
			l := lexer{s: sql, pos: i}
			if _, ok := l.quoted(); !ok {
				return "", nil, false
			}
			toks = append(toks, tok{start: i, end: l.pos})
			b.WriteString(sql[i:l.pos])
			i = l.pos
		case '0' <= c && c <= '9' || c == '.' && i+1 < len(sql) && '0' <= sql[i+1] && sql[i+1] <= '9':
			j := i
			kind := litInt
			for j < len(sql) && ('0' <= sql[j] && sql[j] <= '9' || sql[j] == '.') {
				if sql[j] == '.' {
					kind = litNumeric
				}
				j++
			}
			if j < len(sql) && (identChar(sql[j])) {
				return "", nil, false // exponents, 0x.., 5abc: not handled
			}
			if kind == litInt && (j-i > 9) {
				kind = litNumeric // may not fit an int4
			}
			toks = append(toks, tok{start: i, end: j, lit: kind})
			b.WriteString("\x00")
			b.WriteByte(byte('0' + kind))
			i = j
		case identStart(c):
			j := i
			for j < len(sql) && identChar(sql[j]) {
				j++
			}
			if j < len(sql) && (sql[j] == '\'' || sql[j] == '&') {
				return "", nil, false // E'', B'', X'', U&''
			}
			toks = append(toks, tok{start: i, end: j})
			b.WriteString(sql[i:j])
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), toks, true
}

// litValue returns the value of a literal token as the parser reads it.
func litValue(sql string, t tok) string {
	s := sql[t.start:t.end]
	if t.lit == litString {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}

// tokenAt returns the index of the token starting at byte off, or -1.
func tokenAt(toks []tok, off int) int {
	for i, t := range toks {
		if t.start == off {
			return i
		}
		if t.start > off {
			break
		}
	}
	return -1
}

// shapeOf makes the shape entry of a router plan, if it qualifies.
func shapeOf(sql string, pl *Plan, toks []tok) *shapeEntry {
	if pl.Kind != KindRouter || pl.Deferred || len(pl.lits) == 0 || pl.Fragment == nil || pl.Fragment.offsets == nil {
		return nil
	}
	f := pl.Fragment
	e := &shapeEntry{slots: f.Slots, count: f.ShardCount, shardNote: pl.Note, modify: pl.Modify}
	for _, off := range f.offsets {
		i := tokenAt(toks, off)
		if i < 0 || toks[i].lit != 0 {
			return nil
		}
		e.slotToks = append(e.slotToks, i)
	}
	for _, l := range pl.lits {
		i := tokenAt(toks, l.loc)
		if i < 0 || toks[i].lit != l.kind || litValue(sql, toks[i]) != l.text {
			return nil
		}
		e.lits = append(e.lits, shapeLit{tok: i, typ: l.typ, kind: l.kind})
	}
	return e
}

// fromShape plans sql from a shape entry; ok is false when its literals
// do not pin one shard the same way (the caller plans normally).
func (p *Planner) fromShape(sql string, toks []tok, e *shapeEntry) (*Plan, bool) {
	if len(toks) <= maxTok(e) {
		return nil, false
	}
	pos := -1
	for _, l := range e.lits {
		t := toks[l.tok]
		if t.lit != l.kind {
			return nil, false
		}
		h, err := catalog.HashText(l.typ, litValue(sql, t))
		if err != nil {
			return nil, false
		}
		ix := catalog.ShardIndex(h, e.count)
		if pos >= 0 && ix != pos {
			return nil, false
		}
		pos = ix
	}
	f := &Fragment{Slots: e.slots, ShardCount: e.count, Prune: Prune{Op: PruneShards, Shards: []int{pos}}}
	prev := 0
	for _, ti := range e.slotToks {
		off := toks[ti].start
		end, _, ok := nameSpan(sql, off)
		if !ok || off < prev {
			return nil, false
		}
		f.Parts = append(f.Parts, sql[prev:off])
		prev = end
	}
	f.Parts = append(f.Parts, sql[prev:])
	tasks, err := p.tasks(f, []int{pos})
	if err != nil {
		return nil, false
	}
	return &Plan{Kind: KindRouter, SQL: sql, Fragment: f, Tasks: tasks, Note: e.shardNote,
		cat: p.cat, owner: p, strategy: stratRouter, Modify: e.modify}, true
}

// maxTok returns the largest token index an entry reads.
func maxTok(e *shapeEntry) int {
	m := 0
	for _, t := range e.slotToks {
		m = max(m, t)
	}
	for _, l := range e.lits {
		m = max(m, l.tok)
	}
	return m
}
