package wire

import (
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// expectMsgs compares received message summaries with want.
func expectMsgs(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("messages:\n got  %q\n want %q", got, want)
	}
}

func TestPipelineOneSync(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	const n = 5
	var want []string
	for i := range n {
		rc.send(
			&pgproto3.Parse{Query: "SELECT 2"},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
		)
		_ = i
		want = append(want, "ParseComplete", "BindComplete", "Row 1", "Row 2", "Complete SELECT 2")
	}
	rc.send(&pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), append(want, "RFQ I")...)

	calls := ts.handler.last(t).Calls()
	// Every Parse replaced the unnamed statement and every Bind the unnamed
	// portal; only the last Execute was directly followed by Sync.
	var execs []string
	for _, c := range calls {
		if strings.HasPrefix(c, "Execute") {
			execs = append(execs, c)
		}
	}
	if len(execs) != n || execs[n-1] != `Execute "" max=0 sync=true` || execs[0] != `Execute "" max=0 sync=false` {
		t.Fatalf("executes: %q", execs)
	}
	if got := count(calls, `CloseStatement ""`); got != n-1 {
		t.Errorf("unnamed statement replaced %d times, want %d (calls %q)", got, n-1, calls)
	}
	if got := count(calls, `ClosePortal ""`); got != n {
		t.Errorf("unnamed portal closed %d times, want %d: replaced n-1 times and dropped at Sync (calls %q)", got, n, calls)
	}
}

func count(calls []string, s string) int {
	n := 0
	for _, c := range calls {
		if c == s {
			n++
		}
	}
	return n
}

func TestErrorMidPipelineSkipsToSync(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(
		&pgproto3.Parse{Query: "SELECT 1"},
		&pgproto3.Bind{},
		&pgproto3.Execute{},
		&pgproto3.Parse{Name: "bad", Query: "EXECERROR 22012"},
		&pgproto3.Bind{PreparedStatement: "bad"},
		&pgproto3.Execute{},
		// Skipped: all of these would answer something.
		&pgproto3.Parse{Query: "SELECT 3"},
		&pgproto3.Bind{},
		&pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Execute{},
		&pgproto3.Query{String: "SELECT 1"},
		&pgproto3.Sync{},
	)
	rc.flush()
	expectMsgs(t, rc.until(),
		"ParseComplete", "BindComplete", "Row 1", "Complete SELECT 1",
		"ParseComplete", "BindComplete", "ERROR 22012",
		"RFQ I")

	// The connection is usable again, and the skipped Parse never reached
	// the session.
	rc.send(&pgproto3.Query{String: "SELECT 2"})
	rc.flush()
	expectMsgs(t, rc.until(), "RowDesc n/23/0", "Row 1", "Row 2", "Complete SELECT 2", "RFQ I")
	for _, c := range ts.handler.last(t).Calls() {
		if strings.Contains(c, "SELECT 3") {
			t.Errorf("skipped message reached the session: %q", c)
		}
	}
}

func TestParseErrorAndSyncError(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Parse{Query: "ERROR 42601"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ERROR 42601", "RFQ I")
}

func TestExecuteMaxRowsSuspends(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(
		&pgproto3.Parse{Name: "s", Query: "SELECT 5"},
		&pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"},
		&pgproto3.Execute{Portal: "p", MaxRows: 2},
		&pgproto3.Execute{Portal: "p", MaxRows: 2},
		&pgproto3.Execute{Portal: "p", MaxRows: 2},
		&pgproto3.Sync{},
	)
	rc.flush()
	expectMsgs(t, rc.until(),
		"ParseComplete", "BindComplete",
		"Row 1", "Row 2", "PortalSuspended",
		"Row 3", "Row 4", "PortalSuspended",
		"Row 5", "Complete SELECT 1",
		"RFQ I")
	s := ts.handler.last(t)
	if calls := s.Calls(); count(calls, `Execute "p" max=2 sync=false`) != 2 || count(calls, `Execute "p" max=2 sync=true`) != 1 {
		t.Fatalf("calls: %q", calls)
	}
	// The transaction ended (status I): the portal was dropped at Sync.
	if !slices.Contains(s.Calls(), `ClosePortal "p"`) {
		t.Fatalf("portal not dropped at Sync: %q", s.Calls())
	}
	rc.send(&pgproto3.Execute{Portal: "p"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ERROR 34000", "RFQ I")
}

func TestPortalSurvivesSyncInsideTransaction(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "BEGIN"})
	rc.flush()
	expectMsgs(t, rc.until(), "Complete BEGIN", "RFQ T")
	rc.send(
		&pgproto3.Parse{Name: "s", Query: "SELECT 3"},
		&pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "cur"},
		&pgproto3.Execute{Portal: "cur", MaxRows: 1},
		&pgproto3.Sync{},
	)
	rc.flush()
	expectMsgs(t, rc.until(), "ParseComplete", "BindComplete", "Row 1", "PortalSuspended", "RFQ T")
	rc.send(&pgproto3.Execute{Portal: "cur"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "Row 2", "Row 3", "Complete SELECT 2", "RFQ T")
	rc.send(&pgproto3.Query{String: "COMMIT"})
	rc.flush()
	expectMsgs(t, rc.until(), "Complete COMMIT", "RFQ I")
	if calls := ts.handler.last(t).Calls(); !slices.Contains(calls, `ClosePortal "cur"`) {
		t.Fatalf("portal not dropped at COMMIT: %q", calls)
	}
	// The statement outlives the transaction.
	rc.send(&pgproto3.Describe{ObjectType: 'S', Name: "s"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ParamDesc []", "RowDesc n/23/0", "RFQ I")
}

func TestDescribeStatementAndPortal(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(
		&pgproto3.Parse{Name: "e", Query: "ECHO $1 $2", ParameterOIDs: []uint32{int4OID}},
		&pgproto3.Describe{ObjectType: 'S', Name: "e"},
		&pgproto3.Bind{PreparedStatement: "e", DestinationPortal: "p", Parameters: [][]byte{[]byte("7"), []byte("x")}, ResultFormatCodes: []int16{0, 1}},
		&pgproto3.Describe{ObjectType: 'P', Name: "p"},
		&pgproto3.Bind{PreparedStatement: "e", Parameters: [][]byte{[]byte("7"), []byte("x")}, ResultFormatCodes: []int16{1}},
		&pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Parse{Name: "set", Query: "SET x = 1"},
		&pgproto3.Describe{ObjectType: 'S', Name: "set"},
		&pgproto3.Execute{Portal: "p"},
		&pgproto3.Sync{},
	)
	rc.flush()
	expectMsgs(t, rc.until(),
		"ParseComplete",
		"ParamDesc [23 25]", "RowDesc p1/25/0 p2/25/0",
		"BindComplete", "RowDesc p1/25/0 p2/25/1",
		"BindComplete", "RowDesc p1/25/1 p2/25/1",
		"ParseComplete", "ParamDesc []", "NoData",
		"Row 7 x", "Complete SELECT 1",
		"RFQ I")
}

func TestCloseStatementAndPortal(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "BEGIN"})
	rc.send(
		&pgproto3.Parse{Name: "s", Query: "SELECT 1"},
		&pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"},
		&pgproto3.Close{ObjectType: 'P', Name: "p"},
		&pgproto3.Close{ObjectType: 'S', Name: "s"},
		&pgproto3.Close{ObjectType: 'S', Name: "never-existed"},
		&pgproto3.Sync{},
	)
	rc.flush()
	expectMsgs(t, rc.until(), "Complete BEGIN", "RFQ T")
	expectMsgs(t, rc.until(), "ParseComplete", "BindComplete", "CloseComplete", "CloseComplete", "CloseComplete", "RFQ T")
	calls := ts.handler.last(t).Calls()
	if !slices.Contains(calls, `ClosePortal "p"`) || !slices.Contains(calls, `CloseStatement "s"`) {
		t.Fatalf("calls: %q", calls)
	}
	// An error in a transaction block fails the block, as in PostgreSQL.
	rc.send(&pgproto3.Bind{PreparedStatement: "s"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ERROR 26000", "RFQ E")
	rc.send(&pgproto3.Execute{Portal: "p"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ERROR 34000", "RFQ E")
}

func TestNamedDuplicatesAndUnknowns(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "BEGIN"})
	rc.flush()
	rc.until()
	steps := []struct {
		msgs []pgproto3.FrontendMessage
		want []string
	}{
		{[]pgproto3.FrontendMessage{&pgproto3.Parse{Name: "s", Query: "SELECT 1"}, &pgproto3.Parse{Name: "s", Query: "SELECT 2"}},
			[]string{"ParseComplete", "ERROR 42P05"}},
		{[]pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"}, &pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"}},
			[]string{"BindComplete", "ERROR 42P03"}},
		{[]pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "nope"}}, []string{"ERROR 26000"}},
		{[]pgproto3.FrontendMessage{&pgproto3.Bind{}}, []string{"ERROR 26000"}},
		{[]pgproto3.FrontendMessage{&pgproto3.Describe{ObjectType: 'S', Name: "nope"}}, []string{"ERROR 26000"}},
		{[]pgproto3.FrontendMessage{&pgproto3.Describe{ObjectType: 'P', Name: "nope"}}, []string{"ERROR 34000"}},
		{[]pgproto3.FrontendMessage{&pgproto3.Execute{Portal: "nope"}}, []string{"ERROR 34000"}},
		// Unnamed ones are replaced silently.
		{[]pgproto3.FrontendMessage{&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Parse{Query: "SELECT 2"}, &pgproto3.Bind{}, &pgproto3.Bind{}, &pgproto3.Execute{}},
			[]string{"ParseComplete", "ParseComplete", "BindComplete", "BindComplete", "Row 1", "Row 2", "Complete SELECT 2"}},
	}
	for i, st := range steps {
		rc.send(st.msgs...)
		rc.send(&pgproto3.Sync{})
		rc.flush()
		got := rc.until()
		expectMsgs(t, got[:len(got)-1], st.want...)
		if i == 0 && got[len(got)-1] != "RFQ T" {
			t.Fatalf("status after error: %q", got)
		}
	}
	// Errors the server finds itself are told to the session (so it can
	// abort its transaction); errors the session returned are not.
	aborts := 0
	for _, c := range ts.handler.last(t).Calls() {
		if strings.HasPrefix(c, "Abort") {
			aborts++
		}
	}
	if want := 6; aborts != want { // 42P03, 26000 (Bind) twice, 26000 and 34000 (Describe), 34000 (Execute)
		t.Errorf("session saw %d Abort calls, want %d: %q", aborts, want, ts.handler.last(t).Calls())
	}
}

// TestPrepareAfterSQLDeallocate: a statement dropped with SQL DEALLOCATE
// (which only the session sees) can be prepared again under its name.
func TestPrepareAfterSQLDeallocate(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Parse{Name: "s", Query: "SELECT 1"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ParseComplete", "RFQ I")
	rc.send(&pgproto3.Query{String: "DEALLOCATE ALL"})
	rc.flush()
	rc.until()
	rc.send(&pgproto3.Parse{Name: "s", Query: "SELECT 2"}, &pgproto3.Bind{PreparedStatement: "s"}, &pgproto3.Execute{}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ParseComplete", "BindComplete", "Row 1", "Row 2", "Complete SELECT 2", "RFQ I")
}

func TestBindChecks(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Parse{Name: "e", Query: "ECHO $1 $2"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ParseComplete", "RFQ I")
	two := [][]byte{[]byte("a"), []byte("b")}
	for _, tc := range []struct {
		name string
		bind *pgproto3.Bind
		want string
	}{
		{"too few parameters", &pgproto3.Bind{PreparedStatement: "e", Parameters: two[:1]}, "ERROR 08P01"},
		{"format count", &pgproto3.Bind{PreparedStatement: "e", Parameters: two, ParameterFormatCodes: []int16{0, 0, 0}}, "ERROR 08P01"},
		{"bad format code", &pgproto3.Bind{PreparedStatement: "e", Parameters: two, ParameterFormatCodes: []int16{2}}, "ERROR 22023"},
		{"result format count", &pgproto3.Bind{PreparedStatement: "e", Parameters: two, ResultFormatCodes: []int16{0, 0, 0}}, "ERROR 08P01"},
		{"ok", &pgproto3.Bind{PreparedStatement: "e", Parameters: [][]byte{nil, {}}, ParameterFormatCodes: []int16{1}}, "BindComplete"},
	} {
		rc.send(tc.bind, &pgproto3.Sync{})
		rc.flush()
		expectMsgs(t, rc.until(), tc.want, "RFQ I")
	}
}

func TestFlushSendsWithoutSync(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Parse{Name: "s", Query: "SELECT 1"}, &pgproto3.Flush{})
	rc.flush()
	if got := describeMsg(rc.receive()); got != "ParseComplete" {
		t.Fatalf("after Flush got %s", got)
	}
	rc.send(&pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "RFQ I")
}

// TestErrorSentWithoutSync: an error is flushed at once, as PostgreSQL
// does, so a client that sent Parse + Flush (asyncpg) or Execute + Flush
// (node-postgres cursors) and waits before sending Sync is not left hanging.
func TestErrorSentWithoutSync(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Parse{Name: "bad", Query: "ERROR 42601"}, &pgproto3.Describe{ObjectType: 'S', Name: "bad"}, &pgproto3.Flush{})
	rc.flush()
	if got := describeMsg(rc.receive()); got != "ERROR 42601" {
		t.Fatalf("after Parse+Describe+Flush got %s, want the error", got)
	}
	// A wire-side rejection is flushed too.
	rc.send(&pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "RFQ I")
	rc.send(&pgproto3.Execute{Portal: "nope"}, &pgproto3.Flush{})
	rc.flush()
	if got := describeMsg(rc.receive()); got != "ERROR 34000" {
		t.Fatalf("after Execute+Flush got %s, want the error", got)
	}
	rc.send(&pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "RFQ I")
}

// TestSQLCursorsArePortals: a cursor opened with SQL DECLARE can be
// described, executed and closed as a portal when the session has
// Cursors (psycopg 3 describes its server-side cursors so); the server
// asks the session only for names it does not know.
func TestSQLCursorsArePortals(t *testing.T) {
	h := &cursorHandler{}
	ts := startServer(t, Config{Handler: h})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "BEGIN"}, &pgproto3.Query{String: "DECLARE cc 3"})
	rc.flush()
	expectMsgs(t, rc.until(), "Complete BEGIN", "RFQ T")
	expectMsgs(t, rc.until(), "Complete DECLARE CURSOR", "RFQ T")
	rc.send(&pgproto3.Describe{ObjectType: 'P', Name: "cc"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "RowDesc n/23/0", "RFQ T")
	rc.send(&pgproto3.Execute{Portal: "cc", MaxRows: 2}, &pgproto3.Execute{Portal: "cc"}, &pgproto3.Close{ObjectType: 'P', Name: "cc"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "Row 1", "Row 2", "PortalSuspended", "Row 3", "Complete SELECT 1", "CloseComplete", "RFQ T")
	// A protocol portal of the same batch is the server's own.
	rc.send(&pgproto3.Parse{Name: "s", Query: "SELECT 1"}, &pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"},
		&pgproto3.Describe{ObjectType: 'P', Name: "p"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ParseComplete", "BindComplete", "RowDesc n/23/0", "RFQ T")
	// A closed cursor is gone: the session's 34000 (which fails the
	// block), without an Abort.
	rc.send(&pgproto3.Describe{ObjectType: 'P', Name: "cc"}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ERROR 34000", "RFQ E")
	var calls []string
	for _, c := range h.last(t).Calls() {
		if strings.Contains(c, "Cursor") || strings.HasPrefix(c, "Abort") {
			calls = append(calls, c)
		}
	}
	expectMsgs(t, calls, `DescribeCursor "cc"`, `ExecuteCursor "cc" max=2`, `ExecuteCursor "cc" max=0`, `CloseCursor "cc"`, `DescribeCursor "cc"`)
}
