package citus

import (
	"bytes"
	"context"
	"io"
	"os"
	"sync"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/copytext"
)

// memoryLimit bounds the rows a data move keeps in memory; past it the
// per-shard buffers spill to temporary files.
const memoryLimit = 64 << 20

// copySettings make the shell's COPY output exactly what catalog.HashText
// reads: ISO dates, UTC times, round-trip floats, hex bytea.
const copySettings = `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, MDY', true),
	set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true),
	set_config('IntervalStyle', 'postgres', true)`

// moveShellRows copies the shell's rows into the new shards: COPY TO
// STDOUT of the shell in the catalog transaction, each line routed by the
// hash of its distribution value (or, for an organization table, its
// organization and hash value) into its shard's spool, then one COPY
// FROM STDIN per shard placement in the distributed transaction. It
// returns the number of rows.
func moveShellRows(ctx context.Context, c *change, sh *shell, tb catalog.Table, shards []catalog.Shard, placed map[int64][]int32) (int64, error) {
	if _, err := c.tx.Exec(ctx, copySettings); err != nil {
		return 0, err
	}
	rt, err := newRouter(sh, tb, shards)
	if err != nil {
		return 0, err
	}
	defer rt.close()
	cols := sh.columnList()
	if _, err := c.tx.CopyTo(ctx, rt, "COPY "+sh.rel.String()+" "+cols+" TO STDOUT"); err != nil {
		if rt.err != nil {
			return 0, rt.err
		}
		return 0, err
	}
	if rt.rows == 0 {
		return 0, nil
	}
	jobs := make(map[int32][]copyJob)
	for i, s := range shards {
		if rt.spools[i].size == 0 {
			continue
		}
		for _, n := range placed[s.ID] {
			jobs[n] = append(jobs[n], copyJob{sql: "COPY " + s.QualifiedName() + " " + cols + " FROM STDIN", spool: rt.spools[i]})
		}
	}
	return rt.rows, runCopies(ctx, c, jobs)
}

// copyJob is one COPY FROM STDIN of a spool's rows.
type copyJob struct {
	sql   string
	spool *spool
}

// runCopies runs each worker's COPYs one after the other, the workers at
// once, on the change's connections, and marks the workers written.
func runCopies(ctx context.Context, c *change, jobs map[int32][]copyJob) error {
	ids := sortedNodes(jobs)
	conns := make(map[int32]*pgconn.PgConn, len(ids))
	for _, id := range ids {
		pg, err := c.txn.Conn(ctx, id)
		if err != nil {
			return err
		}
		conns[id] = pg
	}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range jobs[id] {
				rd, err := j.spool.reader()
				if err == nil {
					_, err = conns[id].CopyFrom(ctx, rd, j.sql)
				}
				if err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, id := range ids {
		if errs[i] != nil {
			return c.txn.StatementError(ctx, id, errs[i])
		}
		c.txn.MarkWrite(id)
	}
	return nil
}

// router is the io.Writer that COPY TO writes the shell's rows into: it
// splits lines and appends each to its shard's spool.
type router struct {
	tb      catalog.Table
	distCol int // field index of the distribution (organization) column
	hashCol int // field index of an organization table's hash column, or -1
	shards  []catalog.Shard
	// byOrg maps an organization to its shards' positions in shards, by
	// index; "" for hash and reference tables.
	byOrg  map[string][]int
	spools []*spool
	memory int64
	spill  bool
	rows   int64
	rest   []byte // an incomplete line
	err    error
}

// newRouter prepares the routing of rows into shards.
func newRouter(sh *shell, tb catalog.Table, shards []catalog.Shard) (*router, error) {
	rt := &router{tb: tb, shards: shards, distCol: -1, hashCol: -1, byOrg: map[string][]int{}}
	for k, i := range sh.copyColumns() {
		switch sh.columns[i].name {
		case tb.Column:
			rt.distCol = k
		case tb.HashColumn:
			rt.hashCol = k
		}
	}
	for i, s := range shards {
		list := rt.byOrg[s.Organization]
		for len(list) <= s.Index {
			list = append(list, -1)
		}
		list[s.Index] = i
		rt.byOrg[s.Organization] = list
		rt.spools = append(rt.spools, &spool{})
	}
	if tb.Method != catalog.MethodReference && rt.distCol < 0 {
		return nil, notSupported("cannot distribute %s by its generated column %q", tb.Relation, tb.Column)
	}
	return rt, nil
}

// Write implements io.Writer.
func (rt *router) Write(p []byte) (int, error) {
	if rt.err != nil {
		return 0, rt.err
	}
	data := p
	if len(rt.rest) > 0 {
		data = append(rt.rest, p...)
		rt.rest = nil
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if err := rt.route(data[:i+1]); err != nil {
			rt.err = err
			return 0, err
		}
		data = data[i+1:]
	}
	rt.rest = append([]byte(nil), data...)
	return len(p), nil
}

// route appends one line (with its newline) to its shard's spool.
func (rt *router) route(line []byte) error {
	rt.rows++
	target := 0
	if rt.tb.Method != catalog.MethodReference {
		fields := bytes.Split(line[:len(line)-1], []byte{'\t'})
		org := ""
		key := rt.distCol
		if rt.tb.Method == catalog.MethodOrganization {
			v, ok := copytext.Field(fields[rt.distCol])
			if !ok {
				return errorf(pgerrcode.NullValueNotAllowedDataException, "cannot distribute a row with NULL in the organization column %q of %s", rt.tb.Column, rt.tb.Relation)
			}
			org, key = v, rt.hashCol
		}
		list, ok := rt.byOrg[org]
		if !ok {
			return errorf(pgerrcode.InvalidParameterValue, "a row of %s names organization %q, which does not exist", rt.tb.Relation, org)
		}
		idx := 0
		if key >= 0 {
			v, ok := copytext.Field(fields[key])
			if !ok {
				return errorf(pgerrcode.NullValueNotAllowedDataException, "cannot perform an INSERT with NULL in the partition column").
					withDetail("A row of %s has NULL in its distribution column.", rt.tb.Relation)
			}
			typ := rt.tb.DistributionType()
			h, err := catalog.HashText(typ, v)
			if err != nil {
				return err
			}
			idx = catalog.ShardIndex(h, len(list))
		}
		target = list[idx]
	}
	return rt.add(target, line)
}

// add appends a line to a spool, spilling all spools to files once the
// memory bound is passed.
func (rt *router) add(i int, line []byte) error {
	if !rt.spill && rt.memory+int64(len(line)) > memoryLimit {
		rt.spill = true
		for _, s := range rt.spools {
			if err := s.toFile(); err != nil {
				return err
			}
		}
	}
	if !rt.spill {
		rt.memory += int64(len(line))
	}
	return rt.spools[i].write(line)
}

// close removes the spools' files.
func (rt *router) close() {
	for _, s := range rt.spools {
		s.close()
	}
}

// spool holds one shard's rows in COPY text format: in memory, or in a
// temporary file.
type spool struct {
	mem  bytes.Buffer
	f    *os.File
	size int64
}

func (s *spool) write(p []byte) error {
	s.size += int64(len(p))
	if s.f != nil {
		_, err := s.f.Write(p)
		return err
	}
	s.mem.Write(p)
	return nil
}

// toFile moves the spool to a temporary file.
func (s *spool) toFile() error {
	if s.f != nil {
		return nil
	}
	f, err := os.CreateTemp("", "pgfed-distribute-*")
	if err != nil {
		return err
	}
	os.Remove(f.Name()) // unlinked: gone when closed
	s.f = f
	_, err = f.Write(s.mem.Bytes())
	s.mem = bytes.Buffer{}
	return err
}

// reader returns the spool's content from the start.
func (s *spool) reader() (io.Reader, error) {
	if s.f == nil {
		return bytes.NewReader(s.mem.Bytes()), nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.f, nil
}

func (s *spool) close() {
	if s.f != nil {
		s.f.Close()
	}
}
