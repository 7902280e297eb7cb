package gateway

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5/pgproto3"
)

// FuzzRelayClient feeds arbitrary bytes to the client side of the relay
// (as messages after the startup): it never panics, and nothing it
// forwards to the worker holds a refused statement in a Query or Parse.
func FuzzRelayClient(f *testing.F) {
	enc := func(msgs ...pgproto3.FrontendMessage) []byte {
		var b []byte
		for _, m := range msgs {
			b, _ = m.Encode(b)
		}
		return b
	}
	f.Add(enc(&pgproto3.Query{String: "SELECT 1"}))
	f.Add(enc(&pgproto3.Query{String: "COMMIT PREPARED 'x'"}, &pgproto3.Query{String: "SELECT 2"}))
	f.Add(enc(&pgproto3.Parse{Query: "ROLLBACK PREPARED 'x'"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{}))
	f.Add(enc(&pgproto3.Parse{Query: "COPY t FROM STDIN"}, &pgproto3.Sync{}, &pgproto3.CopyData{Data: []byte("1\n")}, &pgproto3.CopyDone{}))
	f.Add(enc(&pgproto3.FunctionCall{Function: 1}, &pgproto3.Flush{}, &pgproto3.Terminate{}))
	f.Add([]byte{'Q', 0, 0, 0, 3})
	g := &Gateway{cfg: Config{Keeper: noPrepares{}}, org: "fuzz", policy: NewPolicy([]string{"accounts"})}
	if err := g.cfg.validate(); err == nil {
		f.Fatal("a config without routes validated")
	}
	g.cfg.PrepareWait, g.cfg.MaxStatement = 0, 1<<16
	g.log = hclog.NewNullLogger()
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &conn{g: g, r: Route{Worker: "w"}, log: g.log, cw: bufio.NewWriter(io.Discard)}
		var out bytes.Buffer
		bw := bufio.NewWriter(&out)
		c.relayClient(context.Background(), bufio.NewReader(bytes.NewReader(in)), bw)
		_ = bw.Flush()
		// Every Query and Parse forwarded is one the policy allows (or an
		// injected token).
		r := bufio.NewReader(&out)
		for {
			typ, n, err := header(r)
			if err != nil {
				return
			}
			if n > r.Buffered()+out.Len() {
				// A streamed message cut by the end of the input: the
				// relay stops there and the worker's connection closes.
				if typ == 'Q' || typ == 'P' {
					t.Fatalf("forwarded a truncated %q", typ)
				}
				return
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(r, body); err != nil {
				t.Fatal(err)
			}
			if typ != 'Q' && typ != 'P' {
				continue
			}
			_, sql, err := statementText(typ, body)
			if err != nil {
				t.Fatalf("forwarded a malformed %q", typ)
			}
			if _, ref := g.policy.Classify(sql); ref != nil && !bytes.HasPrefix([]byte(sql), []byte("pgfed_gateway_refused_")) {
				t.Fatalf("forwarded refused %q: %s", sql, ref.Reason)
			}
		}
	})
}
