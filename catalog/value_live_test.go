package catalog_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
)

// goValue is one Go value with the SQL that makes the server hash it as a
// value of typ: $1 is sent by pgx in its own encoding for the Go type.
type goValue struct {
	typ catalog.Type
	v   any
	sql string
}

// randGoValues returns Go values of every kind HashValue accepts.
func randGoValues(r *rand.Rand, n int) []goValue {
	h := func(typ catalog.Type, param string) string {
		return fmt.Sprintf("SELECT pg_temp.h_%s(%s)", typ, param)
	}
	zones := []*time.Location{time.UTC, time.FixedZone("x", -5*3600-30*60), time.FixedZone("y", 14*3600)}
	randTime := func() time.Time {
		sec := r.Int64N(int64(400*365*86400)) - int64(200*365*86400)
		return time.Unix(sec, r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
	}
	var vs []goValue
	for range n {
		f := math.Float64frombits(r.Uint64())
		if r.IntN(10) == 0 {
			f = pick(r, 0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1e300, 1e-300)
		}
		u := [16]byte{}
		for i := range u {
			u[i] = byte(r.Uint32())
		}
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		i64 := int64(r.Uint64()) >> r.IntN(64)
		vs = append(vs,
			goValue{catalog.TypeInt2, int16(r.Uint32()), h(catalog.TypeInt2, "$1::int2")},
			goValue{catalog.TypeInt4, int32(r.Uint32()), h(catalog.TypeInt4, "$1::int4")},
			goValue{catalog.TypeInt8, i64, h(catalog.TypeInt8, "$1::int8")},
			goValue{catalog.TypeOID, r.Uint32(), h(catalog.TypeOID, "$1::oid")},
			goValue{catalog.TypeBool, r.IntN(2) == 0, h(catalog.TypeBool, "$1::bool")},
			goValue{catalog.TypeFloat8, f, h(catalog.TypeFloat8, "$1::float8")},
			goValue{catalog.TypeFloat4, math.Float32frombits(r.Uint32()), h(catalog.TypeFloat4, "$1::float4")},
			goValue{catalog.TypeNumeric, i64, h(catalog.TypeNumeric, "$1::int8::numeric")},
			goValue{catalog.TypeText, fmt.Sprintf("k%x", r.Uint64()), h(catalog.TypeText, "$1::text")},
			goValue{catalog.TypeBytea, b, h(catalog.TypeBytea, "$1::bytea")},
			goValue{catalog.TypeUUID, u, h(catalog.TypeUUID, "$1::uuid")},
			goValue{catalog.TypeDate, randTime(), h(catalog.TypeDate, "$1::date")},
			goValue{catalog.TypeTimestamp, randTime(), h(catalog.TypeTimestamp, "$1::timestamp")},
			goValue{catalog.TypeTimestamptz, randTime(), h(catalog.TypeTimestamptz, "$1::timestamptz")},
		)
		if !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 1e300 && (f == 0 || math.Abs(f) > 1e-300) {
			vs = append(vs, goValue{catalog.TypeNumeric, f, h(catalog.TypeNumeric, "$1::float8::numeric")})
		}
	}
	return vs
}

// compareValues checks HashValue against the server on Go values sent as
// pgx encodes them, in one batch.
func compareValues(ctx context.Context, t *testing.T, conn *pgx.Conn, r *rand.Rand, n int) {
	vs := randGoValues(r, n)
	batch := &pgx.Batch{}
	for _, v := range vs {
		batch.Queue(v.sql, v.v)
	}
	res := conn.SendBatch(ctx, batch)
	defer res.Close()
	for _, v := range vs {
		var h int32
		if err := res.QueryRow().Scan(&h); err != nil {
			t.Fatalf("%s %#v: %v", v.sql, v.v, err)
		}
		got, err := catalog.HashValue(v.typ, v.v)
		if err != nil || got != h {
			t.Errorf("HashValue(%s, %#v) = %d, %v; server %d", v.typ, v.v, got, err, h)
		}
	}
	t.Logf("%d Go values hashed equal to the server", len(vs))
}
