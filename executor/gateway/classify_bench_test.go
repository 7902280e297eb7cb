package gateway

import "testing"

// BenchmarkClassify measures the inspection of one statement text (the
// gateway's cost per Query or Parse message).
func BenchmarkClassify(b *testing.B) {
	p := NewPolicy([]string{"accounts", "transfers"})
	for _, sql := range []string{
		"UPDATE accounts_102008 SET balance = balance + $1 WHERE id = $2",
		"SELECT a.id, a.balance, t.delta FROM accounts_1 a JOIN transfers_1 t ON t.account = a.id WHERE a.id = $1 ORDER BY t.gid LIMIT 10",
	} {
		b.Run(sql[:6], func(b *testing.B) {
			for b.Loop() {
				if _, r := p.Classify(sql); r != nil {
					b.Fatal(r)
				}
			}
		})
	}
}
