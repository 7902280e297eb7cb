"""The compatibility scenario (see ../README.md) with psycopg2.

Run with Debian's interpreter: /usr/bin/python3 compat.py. Connection
parameters come from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
Prints one line per step: STEP <name> PASS|FAIL|SKIP <detail>.
"""
import datetime
import decimal
import io
import os
import select
import sys
import threading
import time
import uuid

import psycopg2
import psycopg2.extensions
import psycopg2.extras

CLIENT = "psycopg2"
DIST, REF, CH = f"compat_{CLIENT}_dist", f"compat_{CLIENT}_ref", f"compat_{CLIENT}"
SSLMODE = os.environ.get("COMPAT_SSLMODE", "require")
failed = False


def connect(sslmode):
    return psycopg2.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"), port=os.environ.get("PGPORT", "6432"),
        user=os.environ.get("PGUSER", "postgres"), password=os.environ.get("PGPASSWORD", ""),
        dbname=os.environ.get("PGDATABASE", "postgres"), sslmode=sslmode, connect_timeout=10)


def step(name):
    def run(f):
        global failed
        try:
            f()
            print(f"STEP {name} PASS", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failed = True
            code = getattr(e, "pgcode", None)
            detail = " ".join(f"{type(e).__name__}: {e}".split())
            print(f"STEP {name} FAIL {detail}" + (f" (SQLSTATE {code})" if code else ""), flush=True)
        return f
    return run


def expect(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


conn = None


@step("connect_tls_scram")
def _():
    global conn
    c = connect(SSLMODE)
    c.autocommit = True
    expect("ssl_in_use", c.info.ssl_in_use, SSLMODE == "require")
    conn = c


@step("connect_plain")
def _():
    c = connect("disable")
    with c.cursor() as cur:
        cur.execute("SELECT 1")
        expect("SELECT 1", cur.fetchone()[0], 1)
    c.close()


if conn is None:
    print("STEP rest FAIL no TLS connection, remaining steps not run")
    sys.exit(1)
cur = conn.cursor()


@step("create_tables")
def _():
    cur.execute(f"DROP TABLE IF EXISTS {DIST}, {REF}")
    cur.execute(f"CREATE TABLE {DIST} (id int PRIMARY KEY, v text, n int DEFAULT 0, b bytea, num numeric,"
                " ts timestamptz, u uuid, j jsonb, ia int[], ta text[])")
    cur.execute(f"CREATE TABLE {REF} (id int PRIMARY KEY, name text)")


@step("create_distributed_table")
def _():
    cur.execute(f"SELECT create_distributed_table('{DIST}', 'id')")


@step("create_reference_table")
def _():
    cur.execute(f"SELECT create_reference_table('{REF}')")


@step("insert_select_single")
def _():
    cur.execute(f"INSERT INTO {DIST} (id, v) VALUES (%s, %s)", (1, "one"))
    # An INSERT without RETURNING has no result set: description None.
    expect("description after INSERT", cur.description, None)
    expect("rowcount of INSERT", cur.rowcount, 1)
    cur.execute(f"SELECT v FROM {DIST} WHERE id = %s", (1,))
    expect("v", cur.fetchone()[0], "one")


@step("multirow_insert")
def _():
    psycopg2.extras.execute_values(cur, f"INSERT INTO {DIST} (id, v) VALUES %s", [(i, f"r{i}") for i in range(2, 12)])
    expect("dist rows", cur.rowcount, 10)
    cur.execute(f"INSERT INTO {REF} VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    expect("ref rows", cur.rowcount, 3)


@step("tx_cross_shard_update")
def _():
    conn.autocommit = False
    try:
        cur.execute(f"UPDATE {DIST} SET n = n + 1 WHERE id BETWEEN 1 AND 11")
        expect("updated", cur.rowcount, 11)
        conn.commit()
    finally:
        conn.rollback()
        conn.autocommit = True
    cur.execute(f"SELECT sum(n) FROM {DIST} WHERE id BETWEEN 1 AND 11")
    expect("sum(n)", cur.fetchone()[0], 11)


@step("tx_error_rollback")
def _():
    conn.autocommit = False
    try:
        cur.execute(f"INSERT INTO {DIST} (id, v) VALUES (20, 'tx')")
        try:
            cur.execute("SELECT 1/0")
            raise AssertionError("SELECT 1/0 succeeded")
        except psycopg2.Error as e:
            expect("SQLSTATE of SELECT 1/0", e.pgcode, "22012")
        try:
            cur.execute("SELECT 1")
            raise AssertionError("SELECT 1 in a failed transaction succeeded")
        except psycopg2.Error as e:
            expect("SQLSTATE in failed transaction", e.pgcode, "25P02")
        conn.rollback()
    finally:
        conn.autocommit = True
    cur.execute(f"SELECT count(*) FROM {DIST} WHERE id = 20")
    expect("rows with id 20 after ROLLBACK", cur.fetchone()[0], 0)


@step("prepared_reuse")
def _():
    # psycopg2 binds parameters client side; server-side reuse is PREPARE/EXECUTE.
    cur.execute(f"PREPARE compat_sel(int) AS SELECT v FROM {DIST} WHERE id = $1")
    for i in range(1, 11):
        cur.execute("EXECUTE compat_sel(%s)", (i,))
        expect(f"v of id {i}", cur.fetchone()[0], "one" if i == 1 else f"r{i}")
    cur.execute("DEALLOCATE compat_sel")


@step("copy_in")
def _():
    data = io.StringIO("".join(f"{i}\tc{i}\n" for i in range(1001, 3001)))
    cur.copy_expert(f"COPY {DIST} (id, v) FROM STDIN", data)
    expect("copied rows", cur.rowcount, 2000)


@step("copy_out")
def _():
    out = io.StringIO()
    cur.copy_expert(f"COPY {DIST} (id, v) TO STDOUT", out)
    lines = [ln.split("\t") for ln in out.getvalue().splitlines()]
    for ln in lines:
        if 1001 <= int(ln[0]) <= 3000:
            expect("line", ln[1], "c" + ln[0])
    cur.execute(f"SELECT count(*) FROM {DIST}")
    expect("lines = count(*)", len(lines), cur.fetchone()[0])
    if len(lines) < 11:
        raise AssertionError(f"only {len(lines)} lines")


@step("fetch_cursor")
def _():
    cur.execute(f"INSERT INTO {DIST} (id, v) VALUES " + ", ".join(f"({i}, 'f{i}')" for i in range(5001, 7001)))
    conn.autocommit = False
    try:
        named = conn.cursor(name="compat_cur")  # DECLARE ... CURSOR, FETCH FORWARD itersize
        named.itersize = 100
        named.execute(f"SELECT id, v FROM {DIST} WHERE id BETWEEN 5001 AND 7000")
        ids = [r[0] for r in named]
        named.close()
        conn.commit()
    finally:
        conn.rollback()
        conn.autocommit = True
    expect("rows", len(ids), 2000)
    expect("sum of ids", sum(ids), (5001 + 7000) * 2000 // 2)


@step("types_roundtrip")
def _():
    psycopg2.extras.register_uuid()
    vals = {
        "b": b"\x00\xff\x00\xde\xad\xbe\xef\\",
        "num": decimal.Decimal("12345678901234567890.123456789"),
        "ts": datetime.datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=datetime.timezone.utc),
        "u": uuid.UUID("6f1e0d6c-1b3a-4e1a-9f0e-442b8cd17a90"),
        "j": {"a": [1, 2, {"b": None}], "c": "ü"},
        "ia": [1, None, 3],
        "ta": ["a", "b c", None, 'ü"\\'],
    }
    cur.execute(f"INSERT INTO {DIST} (id, v, b, num, ts, u, j, ia, ta) VALUES (500, %s, %s, %s, %s, %s, %s, %s, %s)",
                (None, psycopg2.Binary(vals["b"]), vals["num"], vals["ts"], vals["u"],
                 psycopg2.extras.Json(vals["j"]), vals["ia"], vals["ta"]))
    cur.execute(f"SELECT v, b, num, ts, u, j, ia, ta FROM {DIST} WHERE id = 500")
    row = cur.fetchone()
    expect("NULL", row[0], None)
    expect("bytea", bytes(row[1]), vals["b"])
    for i, k in enumerate(["num", "ts", "u", "j", "ia", "ta"], start=2):
        expect(k, row[i], vals[k])


@step("cancel")
def _():
    timer = threading.Timer(1.0, conn.cancel)
    timer.start()
    start = time.monotonic()
    try:
        cur.execute(f"SELECT pg_sleep(30) FROM {DIST} WHERE id = 1")
        raise AssertionError(f"pg_sleep(30) returned without error after {time.monotonic() - start:.1f}s"
                             " (no row with id 1 to sleep on, or the cancel was lost)")
    except psycopg2.Error as e:
        el = time.monotonic() - start
        if e.pgcode != "57014":
            raise AssertionError(f"want SQLSTATE 57014, got {e.pgcode} {e} after {el:.1f}s") from e
        if el > 6:
            raise AssertionError(f"cancelled only after {el:.1f}s") from e
    finally:
        timer.cancel()
    cur.execute("SELECT 1")
    expect("SELECT 1 after cancel", cur.fetchone()[0], 1)


@step("listen_notify")
def _():
    lc = connect(SSLMODE)
    lc.autocommit = True
    try:
        lc.cursor().execute(f"LISTEN {CH}")
        time.sleep(0.2)
        cur.execute("SELECT pg_notify(%s, 'hello')", (CH,))
        deadline = time.monotonic() + 5
        while not lc.notifies and time.monotonic() < deadline:
            # Idle: wait for the socket, then read what arrived.
            if select.select([lc], [], [], max(0, deadline - time.monotonic()))[0]:
                lc.poll()
        if not lc.notifies:
            raise AssertionError("no notification within 5s")
        n = lc.notifies.pop(0)
        expect("notification", (n.channel, n.payload), (CH, "hello"))
    finally:
        lc.close()


@step("deallocate_discard")
def _():
    cur.execute(f"PREPARE compat_p(int) AS SELECT v FROM {DIST} WHERE id = $1")
    cur.execute("EXECUTE compat_p(1)")
    cur.execute("DEALLOCATE ALL")
    try:
        cur.execute("EXECUTE compat_p(1)")
        raise AssertionError("EXECUTE after DEALLOCATE ALL succeeded")
    except psycopg2.Error as e:
        expect("SQLSTATE of EXECUTE after DEALLOCATE ALL", e.pgcode, "26000")
    cur.execute(f"SELECT v FROM {DIST} WHERE id = %s", (2,))
    expect("v", cur.fetchone()[0], "r2")
    cur.execute(f"PREPARE compat_p(int) AS SELECT v FROM {DIST} WHERE id = $1")
    cur.execute("DISCARD ALL")
    cur.execute(f"PREPARE compat_p(int) AS SELECT v FROM {DIST} WHERE id = $1")
    cur.execute("EXECUTE compat_p(3)")
    expect("v", cur.fetchone()[0], "r3")


conn.close()
sys.exit(1 if failed else 0)
