package planner

import (
	"testing"
)

// fuzzCatalog is the catalog the fuzz target plans against.
const fuzzCatalog = `
node 1 w1:5432
node 2 w2:5432
hash orders(customer_id int8, id int8, amount numeric, note text, qty int4) by customer_id shards 4
hash customers(id int8, name text) by id colocate orders
hash events(id int4, kind text, customer_id int8) by id shards 2
reference countries(code text, name text)
local items(id int4, x text)
view big(customer_id, id) as SELECT orders.customer_id, orders.id FROM public.orders WHERE orders.qty > 1;
view agg(kind, n) as SELECT events.kind, count(*) AS n FROM public.events GROUP BY events.kind;
`

// FuzzPlan checks that any SQL text gets a plan or an error, never a
// panic, through every entry point: Plan, Bind, Build, Pushed, Explain.
func FuzzPlan(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM orders WHERE customer_id = 1",
		"SELECT note, count(*) FROM orders GROUP BY note ORDER BY 2 DESC LIMIT 3",
		"SELECT o.id FROM orders o JOIN events e ON e.customer_id = o.customer_id",
		"INSERT INTO orders (customer_id, id) VALUES ($1, $2)",
		"UPDATE orders SET note = 'x' WHERE customer_id IN ($1, 3)",
		"SELECT b.id, a.n FROM big b, agg a WHERE b.customer_id = 1",
		"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 3) SELECT * FROM r, orders",
	} {
		f.Add(s)
	}
	p, err := testPlanner(fuzzCatalog)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		pl, err := p.Plan(sql)
		if err == nil {
			_ = pl.String()
			_ = Explain(pl, ExplainOptions{Verbose: true, AllTasks: true}).String()
			for _, vals := range [][]Param{nil, {{Value: []byte("1")}, {Value: []byte("2")}}, {{Null: true}}, {{Value: []byte{1, 2}, Binary: true}}} {
				if b, err := pl.Bind(vals); err == nil {
					_ = b.String()
				}
			}
		}
		if tree, err := p.Build(sql); err == nil {
			_ = tree.String()
		}
		if tree, err := p.Pushed(sql); err == nil {
			_ = tree.String()
		}
	})
}
