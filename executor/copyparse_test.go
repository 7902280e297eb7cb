package executor

import (
	"encoding/binary"
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

// TestBinarySplitterAcrossChunks feeds COPY binary data in pieces that cut
// tuples anywhere and checks each tuple's number and fields, a NULL
// included, and that data cut inside a tuple is refused at the end.
func TestBinarySplitterAcrossChunks(t *testing.T) {
	var data []byte
	data = append(data, binaryHeader...)
	want := []string{"one", "NULL", "three", ""}
	for i, v := range want {
		data = binary.BigEndian.AppendUint16(data, 2)
		data = binary.BigEndian.AppendUint32(data, 8)
		data = binary.BigEndian.AppendUint64(data, uint64(i+1))
		if v == "NULL" {
			data = binary.BigEndian.AppendUint32(data, 0xffffffff)
			continue
		}
		data = binary.BigEndian.AppendUint32(data, uint32(len(v)))
		data = append(data, v...)
	}
	data = append(data, 0xff, 0xff)
	for step := 1; step <= 9; step++ {
		sp := &binarySplitter{}
		var got []string
		for i := 0; i < len(data); i += step {
			recs, err := sp.feed(data[i:min(i+step, len(data))])
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			// Tuples are valid until the next feed: read them at once.
			for _, r := range recs {
				id, null, ok := sp.field(r.raw, 0)
				if !ok || null || binary.BigEndian.Uint64(id) != uint64(r.line) {
					t.Fatalf("step %d: tuple %d has id %x (null %v, ok %v)", step, r.line, id, null, ok)
				}
				v, null, ok := sp.field(r.raw, 1)
				if !ok {
					t.Fatalf("step %d: tuple %d has no field 1", step, r.line)
				}
				if null {
					got = append(got, "NULL")
				} else {
					got = append(got, string(v))
				}
			}
		}
		if err := sp.finish(); err != nil {
			t.Fatalf("step %d: finish: %v", step, err)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("step %d: fields %q, want %q", step, got, want)
		}
	}
	// Data cut inside a tuple, without the trailer.
	sp := &binarySplitter{}
	if _, err := sp.feed(data[:len(binaryHeader)+7]); err != nil {
		t.Fatal(err)
	}
	if err := sp.finish(); err == nil {
		t.Error("finish accepted data cut inside a tuple")
	}
}
