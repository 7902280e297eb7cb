package citus

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
)

func init() {
	register(&funcSpec{
		name:    "run_command_on_workers",
		params:  []param{{name: "command", typ: "text"}, {name: "parallel", typ: "bool", def: "true"}},
		columns: []column{{"nodename", "text"}, {"nodeport", "int4"}, {"success", "bool"}, {"result", "text"}},
		strict:  true,
		run:     runOnAllWorkers, superuser: true,
	})
}

// workerQuery runs sql on a worker outside any transaction and returns
// its rows as text (NULL as "").
func (r *runner) workerQuery(ctx context.Context, node int32, sql string) ([][]string, error) {
	c, err := r.env.Pools.Acquire(ctx, node)
	if err != nil {
		return nil, err
	}
	defer c.Release()
	res, err := c.PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("worker %s: %w", c.Node().Addr(), err)
	}
	var out [][]string
	for _, rs := range res {
		for _, row := range rs.Rows {
			vals := make([]string, len(row))
			for i, v := range row {
				vals[i] = string(v)
			}
			out = append(out, vals)
		}
	}
	return out, nil
}

// runOnAllWorkers is run_command_on_workers(command, parallel): the
// command runs on every active worker, each in its own implicit
// transaction; result is the single value it returns, the command tag
// when it returns no rows, or the error message. A command that returns
// more than one row or column fails on that worker, as in Citus.
func runOnAllWorkers(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	if err := r.syncPools(ctx); err != nil {
		return nil, err
	}
	snap, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	nodes := placeable(snap)
	rows := make([][]*string, len(nodes))
	run := func(i int) {
		n := nodes[i]
		host, port := n.Host, fmt.Sprint(n.Port)
		ok, result := r.commandResult(ctx, n.ID, a[0].str())
		success := "f"
		if ok {
			success = "t"
		}
		rows[i] = []*string{&host, &port, &success, result}
	}
	if a[1].str() == "true" {
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Add(1)
			go func() { defer wg.Done(); run(i) }()
		}
		wg.Wait()
	} else {
		for i := range nodes {
			run(i)
		}
	}
	return rows, nil
}

// commandResult runs a command on one worker for run_command_on_workers.
func (r *runner) commandResult(ctx context.Context, node int32, cmd string) (bool, *string) {
	str := func(s string) *string { return &s }
	c, err := r.env.Pools.Acquire(ctx, node)
	if err != nil {
		return false, str(err.Error())
	}
	defer c.Release()
	res, err := c.PgConn().Exec(ctx, cmd).ReadAll()
	if err != nil {
		if pe, ok := err.(*pgconn.PgError); ok {
			return false, str(pe.Severity + ":  " + pe.Message)
		}
		return false, str(err.Error())
	}
	if len(res) == 0 {
		return true, str("")
	}
	last := res[len(res)-1]
	switch {
	case len(last.FieldDescriptions) == 0:
		return true, str(last.CommandTag.String())
	case len(last.Rows) > 1 || len(last.FieldDescriptions) > 1:
		return false, str("expected a single column in query target")
	case len(last.Rows) == 0:
		return true, str("")
	case last.Rows[0][0] == nil:
		return true, nil
	}
	return true, str(string(last.Rows[0][0]))
}
