package citus_test

import (
	"fmt"
	"sync"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/executor/citus"
)

// TestConcurrentSessions distributes tables from several sessions at
// once: catalog changes serialize, and 'default' co-location puts every
// table of the same shape in one group with shared placements.
func TestConcurrentSessions(t *testing.T) {
	c := newCluster(t)
	const sessions, perSession = 3, 3
	for s := 0; s < sessions; s++ {
		for i := 0; i < perSession; i++ {
			c.exec(servers[0], fmt.Sprintf("CREATE TABLE t%d_%d (id bigint PRIMARY KEY); INSERT INTO t%d_%d SELECT generate_series(1, 50)", s, i, s, i))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, sessions*perSession)
	for s := 0; s < sessions; s++ {
		meta, err := servers[0].Connect(c.ctx, c.db)
		if err != nil {
			t.Fatal(err)
		}
		defer meta.Close(c.ctx)
		env := *c.env
		env.Meta = pgxMeta{meta}
		env.Session = c.env.Pools.NewSession()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perSession; i++ {
				sql := fmt.Sprintf("SELECT create_distributed_table('t%d_%d', 'id', shard_count => 4)", s, i)
				tree, _ := pg.Parse(sql)
				if err := citus.Run(c.ctx, &env, sql, tree.Stmts[0], &recorder{}); err != nil {
					errs <- fmt.Errorf("%s: %w", sql, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := c.must("SELECT count(DISTINCT colocationid), count(*) FROM pg_dist_partition").rows[0]
	if fmt.Sprint(got) != fmt.Sprint([]string{"1", fmt.Sprint(sessions * perSession)}) {
		t.Errorf("groups and tables: %v", got)
	}
	// Shards of the same index share a node.
	spread := c.must(`SELECT count(DISTINCT p.groupid) FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
		GROUP BY s.shardminvalue ORDER BY 1 DESC LIMIT 1`).rows[0][0]
	if spread != "1" {
		t.Errorf("co-located shards spread over %s nodes", spread)
	}
	if n := c.must("SELECT sum(shard_size) > 0, count(*) FROM citus_shards").rows[0]; n[1] != fmt.Sprint(4*sessions*perSession) {
		t.Errorf("citus_shards: %v", n)
	}
	c.noPrepared()
}
