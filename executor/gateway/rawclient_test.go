package gateway

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
)

// rawClient speaks the protocol message by message (as libpq does where
// pgx does not), to a gateway.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(15 * time.Second))
	c := &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "postgres", "database": "postgres"}})
	c.until('Z')
	return c
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// until reads messages up to one of type typ and returns the types read
// ("E" entries carry the error's code and message).
func (c *rawClient) until(typ byte) []string {
	c.t.Helper()
	var seen []string
	for {
		m, err := c.fe.Receive()
		if err != nil {
			c.t.Fatalf("after %v: %v", seen, err)
		}
		var t byte
		switch m := m.(type) {
		case *pgproto3.ReadyForQuery:
			t = 'Z'
			seen = append(seen, "Z"+string(m.TxStatus))
		case *pgproto3.ErrorResponse:
			t = 'E'
			seen = append(seen, "E"+m.Code+" "+m.Message)
		case *pgproto3.CopyInResponse:
			t = 'G'
			seen = append(seen, "G")
		case *pgproto3.CommandComplete:
			t = 'C'
			seen = append(seen, "C"+string(m.CommandTag))
		default:
			seen = append(seen, "?")
		}
		if t == typ {
			return seen
		}
	}
}

// testRawCopy: COPY FROM STDIN through the extended protocol the way
// libpq's PQexecParams does it (a Sync the worker ignores during the
// copy, another after CopyDone), then a refusal, which must still be
// recognized as the gateway's, and a statement that must still work.
func testRawCopy(t *testing.T, f *testFed) {
	b1 := f.banks[0]
	c := dialRaw(t, b1.gwAddr)
	c.send(&pgproto3.Query{String: "CREATE TABLE IF NOT EXISTS transfers_77 (gid text, account int, delta bigint)"})
	c.until('Z')
	c.send(&pgproto3.Parse{Query: "COPY transfers_77 FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	c.until('G')
	c.send(&pgproto3.CopyData{Data: []byte("r1\t1\t1\nr2\t2\t2\n")}, &pgproto3.CopyDone{}, &pgproto3.Sync{})
	if got := c.until('Z'); strings.Join(got, ",") != "CCOPY 2,ZI" {
		t.Fatalf("after COPY: %v", got)
	}
	c.send(&pgproto3.Query{String: "COMMIT PREPARED 'pgfedx_a_1_b'"})
	got := c.until('Z')
	if len(got) != 2 || !strings.HasPrefix(got[0], "E"+pgerrcode.InsufficientPrivilege+" pgfed gateway of organization bank1") || got[1] != "ZI" {
		t.Fatalf("refusal after COPY: %v", got)
	}
	c.send(&pgproto3.Query{String: "SELECT count(*) FROM transfers_77"})
	if got := c.until('Z'); strings.Join(got, ",") != "?,?,CSELECT 1,ZI" {
		t.Fatalf("statement after the refusal: %v", got)
	}
	// A fastpath function call is refused as a statement is.
	c.send(&pgproto3.FunctionCall{Function: 1, ResultFormatCode: 0})
	if got := c.until('Z'); len(got) != 2 || !strings.Contains(got[0], "fastpath") {
		t.Fatalf("function call: %v", got)
	}
}
