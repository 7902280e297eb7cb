package executor

import (
	"strings"
	"testing"
)

// TestCopySplitterAcrossChunks feeds COPY data in pieces that cut records
// anywhere and checks the records, their lines and a field.
func TestCopySplitterAcrossChunks(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts copyOptions
		data string
		want []string // field 1 of each record
		line []int
	}{
		{"text", copyOptions{format: copyText}, "1\ta\\tb\n2\t\\N\n3\tx\\\ny\n4\tlast", []string{"a\tb", "NULL", "x\ny", "last"}, []int{1, 2, 3, 5}},
		{"csv", copyOptions{format: copyCSV}, "1,\"a,b\"\n2,\n3,\"multi\nline\"\n4,\"q\"\"q\"\n", []string{"a,b", "NULL", "multi\nline", "q\"q"}, []int{1, 2, 3, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.defaults(false, false, false, false)
			for step := 1; step <= 7; step++ {
				sp := &copySplitter{opts: tc.opts}
				var got []string
				var lines []int
				// Records are valid until the next feed: read them at once.
				take := func(recs []record) {
					for _, r := range recs {
						v, null, ok := sp.field(r.raw, 1)
						if !ok {
							t.Fatalf("step %d: record %q has no field 1", step, r.raw)
						}
						if null {
							v = "NULL"
						}
						got = append(got, v)
						lines = append(lines, r.line)
					}
				}
				for i := 0; i < len(tc.data); i += step {
					take(sp.feed([]byte(tc.data[i:min(i+step, len(tc.data))])))
				}
				take(sp.finish())
				if strings.Join(got, "|") != strings.Join(tc.want, "|") {
					t.Errorf("step %d: fields %q, want %q", step, got, tc.want)
				}
				if len(lines) != len(tc.line) || lines[len(lines)-1] != tc.line[len(tc.line)-1] {
					t.Errorf("step %d: lines %v, want %v", step, lines, tc.line)
				}
			}
		})
	}
}
