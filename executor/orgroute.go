package executor

import (
	"fmt"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/wire"
)

// orgShard returns the shard of an organization table that holds a row
// whose organization column value is org and whose hash column value is
// hv (text, or binary when bin is set; ignored when the table has no hash
// column; nil for NULL). An organization that holds no shard of the table
// is 23514, as the planner says for an INSERT ... VALUES; a NULL hash
// value is 23502.
func orgShard(snap *catalog.Snapshot, tb catalog.Table, org string, hv []byte, bin bool) (catalog.Shard, error) {
	var h int32
	if tb.HashColumn != "" {
		if hv == nil {
			return catalog.Shard{}, &wire.Error{Code: pgerrcode.NotNullViolation,
				Message: fmt.Sprintf("the hash column %s of organization table %s cannot be NULL", tb.HashColumn, tb.Relation)}
		}
		var err error
		if bin {
			h, err = catalog.HashBinary(tb.HashColumnType, hv)
		} else {
			h, err = catalog.HashText(tb.HashColumnType, string(hv))
		}
		if err != nil {
			return catalog.Shard{}, &wire.Error{Code: codeOr(err, pgerrcode.InvalidTextRepresentation), Message: err.Error()}
		}
	}
	sh, ok := snap.ShardForOrganization(tb.Relation, org, h)
	if !ok {
		return catalog.Shard{}, &wire.Error{Code: pgerrcode.CheckViolation,
			Message: fmt.Sprintf("no organization %s holds a shard of %s (organization column %s)", quoteLiteral(org), tb.Relation, tb.Column)}
	}
	return sh, nil
}

// orgHashIndex returns the index of an organization table's hash column
// in a column list: -1 when the table has none, an error when the list
// leaves it out (its rows could not be routed).
func orgHashIndex(tb catalog.Table, cols []string) (int, error) {
	if tb.Method != catalog.MethodOrganization || tb.HashColumn == "" {
		return -1, nil
	}
	if i := indexOf(cols, tb.HashColumn); i >= 0 {
		return i, nil
	}
	return -1, &wire.Error{Code: pgerrcode.NotNullViolation,
		Message: fmt.Sprintf("the hash column %s of organization table %s must be given a value", tb.HashColumn, tb.Relation)}
}

// orgShardCopy finds the shard of a COPY record into an organization
// table: org (text) or raw (binary) is its organization column's value;
// hk indexes its hash column (-1 when the table has none).
func (s *Session) orgShardCopy(st *catalogState, pc *parsedCopy, byID map[int64]*shardCopy, order *[]*shardCopy,
	rec record, org string, raw []byte, hk int, sp *copySplitter, bp *binarySplitter, where func(int) string) (*shardCopy, error) {
	bin := pc.opts.format == copyBinary
	if bin {
		org = string(raw)
	}
	var hv []byte
	if hk >= 0 {
		var ok, null bool
		if bin {
			hv, null, ok = bp.field(rec.raw, hk)
		} else {
			var v string
			v, null, ok = sp.field(rec.raw, hk)
			hv = []byte(v)
		}
		switch {
		case !ok:
			return nil, &wire.Error{Code: pgerrcode.BadCopyFileFormat, Message: "missing data for column \"" + pc.table.HashColumn + "\"", Where: where(rec.line)}
		case null:
			hv = nil
		}
	}
	sh, err := orgShard(st.snap, pc.table, org, hv, bin)
	if err != nil {
		if we, ok := err.(*wire.Error); ok {
			we.Where = where(rec.line)
		}
		return nil, err
	}
	return s.shardCopyOf(pc, byID, order, sh)
}
