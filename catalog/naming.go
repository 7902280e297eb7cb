package catalog

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// ShardName returns the name of shard shardID of table (an unqualified table
// name), as Citus names shards: "<table>_<shardid>". When that would be
// longer than MaxNameLength bytes, the table name is cut (at a character
// boundary) and followed by "_" and the eight hex digits of the hash of the
// whole name before the suffix, so that two long names sharing a prefix
// still get distinct shard names. Citus shortens long names the same way;
// the exact shortened form may differ from Citus's.
func ShardName(table string, shardID int64) string {
	suffix := "_" + strconv.FormatInt(shardID, 10)
	if len(table)+len(suffix) <= MaxNameLength {
		return table + suffix
	}
	hash := fmt.Sprintf("_%08x", uint32(HashBytes([]byte(table))))
	keep := MaxNameLength - len(suffix) - len(hash)
	for keep > 0 && !utf8.RuneStart(table[keep]) {
		keep-- // do not split a multibyte character
	}
	return table[:keep] + hash + suffix
}
