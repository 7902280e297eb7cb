package executor

import (
	"bytes"
	"encoding/binary"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/executor/copytext"
	"github.com/pgfed/pgfed/wire"
)

// copyFormat is the format of COPY data.
type copyFormat uint8

const (
	copyText copyFormat = iota
	copyCSV
	copyBinary
)

// copyOptions are the options of a COPY statement the coordinator needs to
// split and route rows.
type copyOptions struct {
	format    copyFormat
	delimiter byte
	null      string
	quote     byte
	escape    byte
	header    bool
}

// defaults fills in PostgreSQL's defaults for the format.
func (o *copyOptions) defaults(delimSet, nullSet, quoteSet, escapeSet bool) {
	if !delimSet {
		o.delimiter = '\t'
		if o.format == copyCSV {
			o.delimiter = ','
		}
	}
	if !nullSet {
		o.null = `\N`
		if o.format == copyCSV {
			o.null = ""
		}
	}
	if !quoteSet {
		o.quote = '"'
	}
	if !escapeSet {
		o.escape = o.quote
	}
}

// copySplitter cuts COPY text or CSV data into records, keeping each
// record's raw bytes (sent on unchanged to the shard) and its line
// number, and extracts one field's value. It allocates nothing per
// record: records point into its buffer and are valid until the next feed
// or finish.
type copySplitter struct {
	opts    copyOptions
	buf     []byte
	off     int // bytes of buf the last records consumed
	line    int // lines consumed so far
	done    bool
	out     []record // the last records, reused
	scratch []byte   // a quoted CSV field's value, reused
}

// record is one row of COPY data.
type record struct {
	raw  []byte // the record's bytes, line end included
	line int    // the line it starts on (1-based)
}

// feed adds data and returns the complete records it holds, which are
// valid until the next feed.
func (s *copySplitter) feed(data []byte) []record {
	s.compact()
	s.buf = append(s.buf, data...)
	return s.records(false)
}

// finish returns the last record (data without a final newline).
func (s *copySplitter) finish() []record {
	s.compact()
	return s.records(true)
}

// compact drops the bytes of the records handed out last, moving the
// incomplete tail to the front of the buffer.
func (s *copySplitter) compact() {
	if s.off > 0 {
		rest := copy(s.buf, s.buf[s.off:])
		s.buf = s.buf[:rest]
		s.off = 0
	}
}

// records cuts the complete records from buf.
func (s *copySplitter) records(final bool) []record {
	out := s.out[:0]
	start := 0
	for start < len(s.buf) && !s.done {
		end, lines := s.recordEnd(s.buf[start:])
		if end < 0 {
			if !final {
				break
			}
			end, lines = len(s.buf)-start, 1
		}
		raw := s.buf[start : start+end : start+end]
		s.line++
		line := s.line
		s.line += lines - 1
		start += end
		if s.opts.format == copyText && (bytes.Equal(raw, []byte("\\.\n")) || bytes.Equal(raw, []byte("\\.\r\n")) || bytes.Equal(raw, []byte("\\."))) {
			s.done = true // end-of-data marker
			break
		}
		out = append(out, record{raw: raw, line: line})
	}
	s.off = start
	s.out = out
	return out
}

// recordEnd returns the length of the first complete record of b (its
// line end included) and how many lines it spans, or -1.
func (s *copySplitter) recordEnd(b []byte) (int, int) {
	lines := 1
	if s.opts.format == copyCSV {
		inQuote := false
		for i := 0; i < len(b); i++ {
			c := b[i]
			switch {
			case inQuote && c == s.opts.escape && s.opts.escape != s.opts.quote && i+1 < len(b) && (b[i+1] == s.opts.quote || b[i+1] == s.opts.escape):
				i++
			case c == s.opts.quote:
				inQuote = !inQuote
			case c == '\n':
				if !inQuote {
					return i + 1, lines
				}
				lines++
			}
		}
		return -1, 0
	}
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			if i+1 < len(b) && b[i+1] == '\n' {
				lines++ // an escaped newline is data
			}
			i++
		case '\n':
			return i + 1, lines
		}
	}
	return -1, 0
}

// field returns the value of field k (0-based) of a record; null is set
// for a NULL; ok is false when the record has fewer fields.
func (s *copySplitter) field(raw []byte, k int) (val string, null, ok bool) {
	raw = bytes.TrimSuffix(raw, []byte("\n"))
	raw = bytes.TrimSuffix(raw, []byte("\r"))
	if s.opts.format == copyCSV {
		return s.csvField(raw, k)
	}
	n := 0
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] == '\\' {
			i++
			continue
		}
		if i == len(raw) || raw[i] == s.opts.delimiter {
			if n == k {
				f := raw[start:i]
				if string(f) == s.opts.null {
					return "", true, true
				}
				return copytext.Unescape(f), false, true
			}
			n++
			start = i + 1
		}
	}
	return "", false, false
}

// csvField extracts field k of a CSV record.
func (s *copySplitter) csvField(raw []byte, k int) (string, bool, bool) {
	n := 0
	i := 0
	for {
		val := s.scratch[:0]
		quoted := false
		startField := i
		for i < len(raw) && raw[i] != s.opts.delimiter {
			if raw[i] == s.opts.quote {
				quoted = true
				i++
				for i < len(raw) {
					c := raw[i]
					if c == s.opts.escape && i+1 < len(raw) && raw[i+1] == s.opts.quote && (s.opts.escape != s.opts.quote || true) {
						if s.opts.escape == s.opts.quote || raw[i+1] == s.opts.quote || raw[i+1] == s.opts.escape {
							val = append(val, raw[i+1])
							i += 2
							continue
						}
					}
					if c == s.opts.quote {
						i++
						break
					}
					val = append(val, c)
					i++
				}
				continue
			}
			val = append(val, raw[i])
			i++
		}
		s.scratch = val
		if n == k {
			if !quoted && string(raw[startField:i]) == s.opts.null {
				return "", true, true
			}
			if !quoted {
				return string(raw[startField:i]), false, true
			}
			return string(val), false, true
		}
		if i >= len(raw) {
			return "", false, false
		}
		i++ // the delimiter
		n++
	}
}

// appendCSV appends a row in CSV format, quoting values that need it.
func appendCSV(dst []byte, row [][]byte, o copyOptions) []byte {
	for i, v := range row {
		if i > 0 {
			dst = append(dst, o.delimiter)
		}
		if v == nil {
			dst = append(dst, o.null...)
			continue
		}
		need := len(v) == 0 && o.null == "" || string(v) == o.null
		for _, c := range v {
			if c == o.delimiter || c == o.quote || c == '\n' || c == '\r' || c == o.escape {
				need = true
				break
			}
		}
		if !need {
			dst = append(dst, v...)
			continue
		}
		dst = append(dst, o.quote)
		for _, c := range v {
			if c == o.quote || c == o.escape {
				dst = append(dst, o.escape)
			}
			dst = append(dst, c)
		}
		dst = append(dst, o.quote)
	}
	return append(dst, '\n')
}

// binarySignature starts COPY's binary format.
const binarySignature = "PGCOPY\n\xff\r\n\x00"

// binaryHeader is the header the shards' binary COPY streams start with:
// the signature, no flags, no extension.
var binaryHeader = []byte(binarySignature + "\x00\x00\x00\x00\x00\x00\x00\x00")

// binarySplitter cuts COPY binary data into tuples. Like copySplitter it
// allocates nothing per tuple: tuples point into its buffer and are valid
// until the next feed.
type binarySplitter struct {
	buf    []byte
	off    int  // bytes of buf the last tuples consumed
	header bool // the header was read
	tuple  int
	done   bool // the trailer was read
	out    []record
}

// feed adds data and returns the complete tuples (each raw tuple is its
// field count and fields), numbered from 1 as PostgreSQL numbers lines of
// binary data.
func (s *binarySplitter) feed(data []byte) ([]record, error) {
	if s.off > 0 {
		rest := copy(s.buf, s.buf[s.off:])
		s.buf = s.buf[:rest]
		s.off = 0
	}
	s.buf = append(s.buf, data...)
	out := s.out[:0]
	pos := 0
	if !s.header {
		if len(s.buf) < 19 {
			return nil, nil
		}
		if string(s.buf[:11]) != binarySignature {
			return nil, errBadBinaryCopy("COPY file signature not recognized")
		}
		ext := int(binary.BigEndian.Uint32(s.buf[15:19]))
		if len(s.buf) < 19+ext {
			return nil, nil
		}
		pos = 19 + ext
		s.header = true
	}
	for !s.done && pos+2 <= len(s.buf) {
		n := int(int16(binary.BigEndian.Uint16(s.buf[pos:])))
		if n == -1 {
			s.done = true
			pos += 2
			break
		}
		end := pos + 2
		complete := true
		for i := 0; i < n; i++ {
			if end+4 > len(s.buf) {
				complete = false
				break
			}
			l := int(int32(binary.BigEndian.Uint32(s.buf[end:])))
			end += 4
			if l > 0 {
				end += l
			}
			if end > len(s.buf) {
				complete = false
				break
			}
		}
		if !complete {
			break
		}
		s.tuple++
		out = append(out, record{raw: s.buf[pos:end:end], line: s.tuple})
		pos = end
	}
	s.off = pos
	s.out = out
	return out, nil
}

// finish checks that the data ended at a tuple boundary.
func (s *binarySplitter) finish() error {
	if len(s.buf) > s.off && !s.done {
		return errBadBinaryCopy("unexpected EOF in COPY data")
	}
	return nil
}

// field returns field k of a tuple; null for a NULL.
func (s *binarySplitter) field(raw []byte, k int) (val []byte, null, ok bool) {
	n := int(int16(binary.BigEndian.Uint16(raw)))
	if k >= n {
		return nil, false, false
	}
	pos := 2
	for i := 0; i <= k; i++ {
		l := int(int32(binary.BigEndian.Uint32(raw[pos:])))
		pos += 4
		if i == k {
			if l < 0 {
				return nil, true, true
			}
			return raw[pos : pos+l], false, true
		}
		if l > 0 {
			pos += l
		}
	}
	return nil, false, false
}

// errBadBinaryCopy is 22P04 bad_copy_file_format.
func errBadBinaryCopy(msg string) error {
	return &wire.Error{Code: pgerrcode.BadCopyFileFormat, Message: msg}
}
