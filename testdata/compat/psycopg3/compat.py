"""The compatibility scenario (see ../README.md) with psycopg 3.

Run with Debian's interpreter: /usr/bin/python3 compat.py. Connection
parameters come from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
Prints one line per step: STEP <name> PASS|FAIL|SKIP <detail>.
"""
import datetime
import decimal
import os
import sys
import threading
import time
import uuid

import psycopg
from psycopg.types.json import Jsonb

CLIENT = "psycopg3"
DIST, REF, CH = f"compat_{CLIENT}_dist", f"compat_{CLIENT}_ref", f"compat_{CLIENT}"
SSLMODE = os.environ.get("COMPAT_SSLMODE", "require")
failed = False


def connect(sslmode):
    return psycopg.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"), port=os.environ.get("PGPORT", "6432"),
        user=os.environ.get("PGUSER", "postgres"), password=os.environ.get("PGPASSWORD", ""),
        dbname=os.environ.get("PGDATABASE", "postgres"), sslmode=sslmode, connect_timeout=10,
        autocommit=True)


def step(name):
    def run(f):
        global failed
        try:
            f()
            print(f"STEP {name} PASS", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failed = True
            code = getattr(getattr(e, "diag", None), "sqlstate", None)
            detail = " ".join(f"{type(e).__name__}: {e}".split())
            print(f"STEP {name} FAIL {detail}" + (f" (SQLSTATE {code})" if code else ""), flush=True)
        return f
    return run


def expect(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def sqlstate(e):
    return getattr(getattr(e, "diag", None), "sqlstate", None)


conn = None


@step("connect_tls_scram")
def _():
    global conn
    c = connect(SSLMODE)
    expect("ssl_in_use", c.pgconn.ssl_in_use, SSLMODE == "require")
    conn = c


@step("connect_plain")
def _():
    with connect("disable") as c:
        expect("SELECT 1", c.execute("SELECT 1").fetchone()[0], 1)


if conn is None:
    print("STEP rest FAIL no TLS connection, remaining steps not run")
    sys.exit(1)


@step("create_tables")
def _():
    conn.execute(f"DROP TABLE IF EXISTS {DIST}, {REF}")
    conn.execute(f"CREATE TABLE {DIST} (id int PRIMARY KEY, v text, n int DEFAULT 0, b bytea, num numeric,"
                 " ts timestamptz, u uuid, j jsonb, ia int[], ta text[])")
    conn.execute(f"CREATE TABLE {REF} (id int PRIMARY KEY, name text)")


@step("create_distributed_table")
def _():
    # Without parameters psycopg sends a simple Query.
    conn.execute(f"SELECT create_distributed_table('{DIST}', 'id')")


@step("create_reference_table")
def _():
    conn.execute(f"SELECT create_reference_table('{REF}')")


@step("insert_select_single")
def _():
    conn.execute(f"INSERT INTO {DIST} (id, v) VALUES (%s, %s)", (1, "one"))
    expect("v", conn.execute(f"SELECT v FROM {DIST} WHERE id = %s", (1,)).fetchone()[0], "one")


@step("multirow_insert")
def _():
    vals = ", ".join(f"({i}, 'r{i}')" for i in range(2, 12))
    cur = conn.execute(f"INSERT INTO {DIST} (id, v) VALUES {vals}")
    expect("dist rows", cur.rowcount, 10)
    # executemany runs in libpq pipeline mode (one Sync for all the rows).
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {REF} VALUES (%s, %s)", [(1, "a"), (2, "b"), (3, "c")])
    expect("ref rows", conn.execute(f"SELECT count(*) FROM {REF}").fetchone()[0], 3)


@step("tx_cross_shard_update")
def _():
    with conn.transaction():
        cur = conn.execute(f"UPDATE {DIST} SET n = n + 1 WHERE id BETWEEN 1 AND 11")
        expect("updated", cur.rowcount, 11)
    expect("sum(n)", conn.execute(f"SELECT sum(n) FROM {DIST} WHERE id BETWEEN 1 AND 11").fetchone()[0], 11)


@step("tx_error_rollback")
def _():
    conn.execute("BEGIN")
    try:
        conn.execute(f"INSERT INTO {DIST} (id, v) VALUES (20, 'tx')")
        try:
            conn.execute("SELECT 1/0")
            raise AssertionError("SELECT 1/0 succeeded")
        except psycopg.Error as e:
            expect("SQLSTATE of SELECT 1/0", sqlstate(e), "22012")
        try:
            conn.execute("SELECT 1")
            raise AssertionError("SELECT 1 in a failed transaction succeeded")
        except psycopg.Error as e:
            expect("SQLSTATE in failed transaction", sqlstate(e), "25P02")
    finally:
        conn.execute("ROLLBACK")
    expect("rows with id 20 after ROLLBACK",
           conn.execute(f"SELECT count(*) FROM {DIST} WHERE id = 20").fetchone()[0], 0)


@step("prepared_reuse")
def _():
    # psycopg prepares a query server side once it ran prepare_threshold (5) times.
    for i in range(1, 11):
        v = conn.execute(f"SELECT v FROM {DIST} WHERE id = %s", (i,)).fetchone()[0]
        expect(f"v of id {i}", v, "one" if i == 1 else f"r{i}")


@step("copy_in")
def _():
    with conn.cursor() as cur:
        with cur.copy(f"COPY {DIST} (id, v) FROM STDIN") as cp:
            for i in range(1001, 3001):
                cp.write_row((i, f"c{i}"))
        expect("copied rows", cur.rowcount, 2000)


@step("copy_out")
def _():
    n = 0
    with conn.cursor() as cur:
        with cur.copy(f"COPY {DIST} (id, v) TO STDOUT") as cp:
            for row in cp.rows():
                n += 1
                if 1001 <= int(row[0]) <= 3000:
                    expect("row", row[1], "c" + row[0])
    expect("rows = count(*)", n, conn.execute(f"SELECT count(*) FROM {DIST}").fetchone()[0])
    if n < 11:
        raise AssertionError(f"only {n} rows")


@step("fetch_cursor")
def _():
    conn.execute(f"INSERT INTO {DIST} (id, v) VALUES " + ", ".join(f"({i}, 'f{i}')" for i in range(5001, 7001)))
    with conn.transaction():
        with conn.cursor(name="compat_cur") as named:  # DECLARE ... CURSOR, FETCH FORWARD itersize
            named.itersize = 100
            named.execute(f"SELECT id, v FROM {DIST} WHERE id BETWEEN 5001 AND 7000")
            ids = [r[0] for r in named]
    expect("rows", len(ids), 2000)
    expect("sum of ids", sum(ids), (5001 + 7000) * 2000 // 2)


@step("types_roundtrip")
def _():
    vals = {
        "b": b"\x00\xff\x00\xde\xad\xbe\xef\\",
        "num": decimal.Decimal("12345678901234567890.123456789"),
        "ts": datetime.datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=datetime.timezone.utc),
        "u": uuid.UUID("6f1e0d6c-1b3a-4e1a-9f0e-442b8cd17a90"),
        "j": {"a": [1, 2, {"b": None}], "c": "ü"},
        "ia": [1, None, 3],
        "ta": ["a", "b c", None, 'ü"\\'],
    }
    for binary in (False, True):
        with conn.cursor(binary=binary) as cur:
            cur.execute(f"DELETE FROM {DIST} WHERE id = 500")
            cur.execute(f"INSERT INTO {DIST} (id, v, b, num, ts, u, j, ia, ta) VALUES (500, %s, %s, %s, %s, %s, %s, %s, %s)",
                        (None, vals["b"], vals["num"], vals["ts"], vals["u"], Jsonb(vals["j"]), vals["ia"], vals["ta"]))
            row = cur.execute(f"SELECT v, b, num, ts, u, j, ia, ta FROM {DIST} WHERE id = 500").fetchone()
            fmt = "binary" if binary else "text"
            expect(f"NULL ({fmt})", row[0], None)
            for i, k in enumerate(["b", "num", "ts", "u", "j", "ia", "ta"], start=1):
                expect(f"{k} ({fmt})", row[i], vals[k])


@step("cancel")
def _():
    timer = threading.Timer(1.0, conn.cancel)
    timer.start()
    start = time.monotonic()
    try:
        conn.execute(f"SELECT pg_sleep(30) FROM {DIST} WHERE id = 1")
        raise AssertionError(f"pg_sleep(30) returned without error after {time.monotonic() - start:.1f}s"
                             " (no row with id 1 to sleep on, or the cancel was lost)")
    except psycopg.Error as e:
        el = time.monotonic() - start
        if sqlstate(e) != "57014":
            raise AssertionError(f"want SQLSTATE 57014, got {sqlstate(e)} {e} after {el:.1f}s") from e
        if el > 6:
            raise AssertionError(f"cancelled only after {el:.1f}s") from e
    finally:
        timer.cancel()
    expect("SELECT 1 after cancel", conn.execute("SELECT 1").fetchone()[0], 1)


@step("listen_notify")
def _():
    lc = connect(SSLMODE)
    got = []

    def wait():
        # notifies() blocks, reading the idle connection.
        for n in lc.notifies():
            got.append(n)
            return

    try:
        lc.execute(f"LISTEN {CH}")
        t = threading.Thread(target=wait, daemon=True)
        t.start()
        time.sleep(0.2)
        conn.execute("SELECT pg_notify(%s, 'hello')", (CH,))
        t.join(5)
        if not got:
            raise AssertionError("no notification within 5s")
        expect("notification", (got[0].channel, got[0].payload), (CH, "hello"))
    finally:
        if not got:
            lc.pgconn.finish()  # unblocks the waiting thread
        else:
            lc.close()


@step("deallocate_discard")
def _():
    q = f"SELECT v FROM {DIST} WHERE id = %s"
    for i in range(1, 7):  # prepared server side from the 6th execution
        conn.execute(q, (i,))
    conn.execute("DEALLOCATE ALL")
    # psycopg 3.1 does not notice DEALLOCATE ALL (nor DISCARD ALL): its
    # cache still names the dropped statement, on PostgreSQL as well; a
    # ROLLBACK clears that cache, so the application sends one.
    conn.execute("ROLLBACK")
    expect("v", conn.execute(q, (2,)).fetchone()[0], "r2")
    conn.execute("DISCARD ALL")
    conn.execute("ROLLBACK")
    for i in range(1, 8):
        expect("v", conn.execute(q, (i,)).fetchone()[0], "one" if i == 1 else f"r{i}")


conn.close()
sys.exit(1 if failed else 0)
