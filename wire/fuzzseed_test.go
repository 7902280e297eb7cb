package wire

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

var writeFuzzSeeds = flag.Bool("write-fuzz-seeds", false, "rewrite the seed corpora under testdata/fuzz")

// TestFuzzSeeds checks that the checked-in seed corpora exist (they run as
// part of FuzzReader, FuzzStartup and FuzzSession), and rewrites them with
// -write-fuzz-seeds.
func TestFuzzSeeds(t *testing.T) {
	seeds := map[string]map[string][]byte{
		"FuzzSession": {
			"pipeline": encodeFrontend(
				&pgproto3.Parse{Query: "SELECT 2"}, &pgproto3.Bind{}, &pgproto3.Execute{},
				&pgproto3.Parse{Query: "ECHO $1", ParameterOIDs: []uint32{25}}, &pgproto3.Bind{Parameters: [][]byte{[]byte("x")}}, &pgproto3.Execute{},
				&pgproto3.Sync{}),
			"error-mid-pipeline": encodeFrontend(
				&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Execute{},
				&pgproto3.Parse{Query: "EXECERROR 22012"}, &pgproto3.Bind{}, &pgproto3.Execute{},
				&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Sync{}, &pgproto3.Query{String: "SELECT 1"}),
			"suspend": encodeFrontend(
				&pgproto3.Query{String: "BEGIN"},
				&pgproto3.Parse{Name: "s", Query: "SELECT 5"}, &pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p", ResultFormatCodes: []int16{1}},
				&pgproto3.Execute{Portal: "p", MaxRows: 2}, &pgproto3.Execute{Portal: "p", MaxRows: 2}, &pgproto3.Sync{},
				&pgproto3.Execute{Portal: "p"}, &pgproto3.Sync{}, &pgproto3.Query{String: "COMMIT"}),
			"describe-close": encodeFrontend(
				&pgproto3.Parse{Name: "e", Query: "ECHO $1 $2"}, &pgproto3.Describe{ObjectType: 'S', Name: "e"},
				&pgproto3.Bind{PreparedStatement: "e", DestinationPortal: "p", Parameters: [][]byte{nil, []byte("b")}},
				&pgproto3.Describe{ObjectType: 'P', Name: "p"}, &pgproto3.Close{ObjectType: 'P', Name: "p"},
				&pgproto3.Close{ObjectType: 'S', Name: "e"}, &pgproto3.Flush{}, &pgproto3.Sync{}),
			"duplicates": encodeFrontend(
				&pgproto3.Parse{Name: "s", Query: "SELECT 1"}, &pgproto3.Parse{Name: "s", Query: "SELECT 1"}, &pgproto3.Sync{},
				&pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"}, &pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"}, &pgproto3.Sync{},
				&pgproto3.Bind{PreparedStatement: "s", Parameters: [][]byte{{1}}}, &pgproto3.Sync{}),
			"copy": encodeFrontend(
				&pgproto3.Query{String: "COPY t FROM STDIN"}, &pgproto3.CopyData{Data: []byte("1\n2\n")}, &pgproto3.Flush{},
				&pgproto3.Sync{}, &pgproto3.CopyDone{},
				&pgproto3.Query{String: "COPY t FROM STDIN"}, &pgproto3.CopyFail{Message: "no"}, &pgproto3.CopyData{Data: []byte("x")}),
			"simple": encodeFrontend(
				&pgproto3.Query{String: "SELECT 3; SET x = 1"}, &pgproto3.Query{String: "BEGIN; ERROR 22012"},
				&pgproto3.Query{String: "ROLLBACK"}, &pgproto3.Query{String: "  "}, &pgproto3.Query{String: "PLAIN"},
				&pgproto3.FunctionCall{Function: 1}, &pgproto3.Terminate{}),
			"unknown-type":  {'z', 0, 0, 0, 4},
			"oversize":      {'Q', 0x7f, 0, 0, 0},
			"panic":         encodeFrontend(&pgproto3.Query{String: "PANIC"}),
			"bad-subtypes":  encodeFrontend(&pgproto3.Describe{ObjectType: 'X'}, &pgproto3.Close{ObjectType: 'X'}, &pgproto3.Sync{}),
			"bind-formats":  encodeFrontend(&pgproto3.Parse{Query: "ECHO $1"}, &pgproto3.Bind{Parameters: [][]byte{[]byte("a")}, ParameterFormatCodes: []int16{7}}, &pgproto3.Sync{}),
			"notify":        encodeFrontend(&pgproto3.Query{String: "NOTIFYME"}),
			"fatal":         encodeFrontend(&pgproto3.Query{String: "FATAL"}, &pgproto3.Sync{}),
			"truncated":     encodeFrontend(&pgproto3.Query{String: "SELECT 1"})[:7],
			"bad-bind-body": {'B', 0, 0, 0, 14, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9},
		},
		"FuzzStartup": {
			"startup":        startupPacket(3<<16, params("user", "bob", "database", "db")),
			"ssl-then-start": append(startupPacket(sslRequestCode, nil), startupPacket(3<<16, params("user", "bob"))...),
			"gss-then-start": append(startupPacket(gssEncRequestCode, nil), startupPacket(3<<16, params("user", "bob"))...),
			"cancel":         startupPacket(cancelRequestCode, []byte{0, 0, 0, 1, 1, 2, 3, 4}),
			"protocol-3.2":   startupPacket(pgproto3.ProtocolVersion32, params("user", "bob", "_pq_.x", "1")),
			"protocol-2.0":   startupPacket(2<<16, params("user", "bob")),
			"no-user":        startupPacket(3<<16, params("database", "x")),
			"too-long":       {0, 0, 0x4e, 0x21},
			"no-terminator":  startupPacket(3<<16, []byte("user\x00bob\x00")),
		},
		"FuzzReader": {
			"all-types": encodeFrontend(
				&pgproto3.Query{String: "SELECT 1"}, &pgproto3.Parse{Name: "a", Query: "q", ParameterOIDs: []uint32{23}},
				&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "a", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 1}}, ResultFormatCodes: []int16{0}},
				&pgproto3.Describe{ObjectType: 'P', Name: "p"}, &pgproto3.Execute{Portal: "p", MaxRows: 5},
				&pgproto3.Close{ObjectType: 'S', Name: "a"}, &pgproto3.Flush{}, &pgproto3.Sync{},
				&pgproto3.CopyData{Data: []byte("x")}, &pgproto3.CopyDone{}, &pgproto3.CopyFail{Message: "m"},
				&pgproto3.FunctionCall{Function: 5, ArgFormatCodes: []uint16{0}, Arguments: [][]byte{[]byte("1")}}, &pgproto3.Terminate{}),
			"negative-length": {'Q', 0xff, 0xff, 0xff, 0xff},
			"short-length":    {'S', 0, 0, 0, 3},
		},
	}
	for target, files := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		for name, data := range files {
			path := filepath.Join(dir, name)
			want := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
			if *writeFuzzSeeds {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("missing seed (run with -write-fuzz-seeds): %v", err)
			}
			if string(got) != want {
				t.Errorf("seed %s is stale (run with -write-fuzz-seeds)", path)
			}
		}
	}
}
