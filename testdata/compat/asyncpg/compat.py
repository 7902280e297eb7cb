"""The compatibility scenario (see ../README.md) with asyncpg.

Run with Debian's interpreter: /usr/bin/python3 compat.py. Connection
parameters come from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE;
COMPAT_SSLMODE (default require) is the main connection's sslmode.
Prints one line per step: STEP <name> PASS|FAIL|SKIP <detail>.

asyncpg speaks only the extended protocol, prepares every statement under
a name of its own and caches it, reads results in binary, and runs a
cursor as a portal executed a fixed number of rows at a time (Execute with
a row limit, answered by PortalSuspended).
"""
import asyncio
import datetime
import decimal
import io
import json
import os
import sys
import time
import uuid

import asyncpg

CLIENT = "asyncpg"
DIST, REF, CH = f"compat_{CLIENT}_dist", f"compat_{CLIENT}_ref", f"compat_{CLIENT}"
SSLMODE = os.environ.get("COMPAT_SSLMODE", "require")
failed = False


async def connect(ssl):
    return await asyncpg.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"), port=int(os.environ.get("PGPORT", "6432")),
        user=os.environ.get("PGUSER", "postgres"), password=os.environ.get("PGPASSWORD", ""),
        database=os.environ.get("PGDATABASE", "postgres"), ssl=ssl, timeout=10)


STEP_TIMEOUT = 10


async def step(name, f):
    """Runs f, reporting it; returns False when it timed out (the
    connection may then be stuck in the middle of a request)."""
    global failed
    try:
        try:
            await asyncio.wait_for(f(), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            failed = True
            print(f"STEP {name} FAIL no answer within {STEP_TIMEOUT}s (asyncio.TimeoutError)", flush=True)
            return False
        print(f"STEP {name} PASS", flush=True)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        failed = True
        code = getattr(e, "sqlstate", None)
        detail = " ".join(f"{type(e).__name__}: {e}".split())
        print(f"STEP {name} FAIL {detail}" + (f" (SQLSTATE {code})" if code else ""), flush=True)
    return True


def expect(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


async def main():
    conn = None

    async def connect_tls():
        nonlocal conn
        c = await connect(SSLMODE)
        if SSLMODE == "require":
            expect("TLS in use", c._transport.get_extra_info("ssl_object") is not None, True)
        conn = c

    async def connect_plain():
        c = await connect("disable")
        expect("SELECT 1", await c.fetchval("SELECT 1"), 1)
        await c.close()

    await step("connect_tls_scram", connect_tls)
    await step("connect_plain", connect_plain)
    if conn is None:
        print("STEP rest FAIL no TLS connection, remaining steps not run")
        return
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")

    async def create_tables():
        await conn.execute(f"DROP TABLE IF EXISTS {DIST}, {REF}")
        await conn.execute(f"CREATE TABLE {DIST} (id int PRIMARY KEY, v text, n int DEFAULT 0, b bytea, num numeric,"
                           " ts timestamptz, u uuid, j jsonb, ia int[], ta text[])")
        await conn.execute(f"CREATE TABLE {REF} (id int PRIMARY KEY, name text)")

    async def create_dist():
        # Without arguments asyncpg's execute() sends a simple Query.
        await conn.execute(f"SELECT create_distributed_table('{DIST}', 'id')")

    async def create_ref():
        await conn.execute(f"SELECT create_reference_table('{REF}')")

    async def insert_select_single():
        await conn.execute(f"INSERT INTO {DIST} (id, v) VALUES ($1, $2)", 1, "one")
        expect("v", await conn.fetchval(f"SELECT v FROM {DIST} WHERE id = $1", 1), "one")

    async def multirow_insert():
        vals = ", ".join(f"({i}, 'r{i}')" for i in range(2, 12))
        expect("dist status", await conn.execute(f"INSERT INTO {DIST} (id, v) VALUES {vals}"), "INSERT 0 10")
        # executemany pipelines Bind/Execute for every row before one Sync.
        await conn.executemany(f"INSERT INTO {REF} VALUES ($1, $2)", [(1, "a"), (2, "b"), (3, "c")])
        expect("ref rows", await conn.fetchval(f"SELECT count(*) FROM {REF}"), 3)

    async def tx_update():
        async with conn.transaction():
            expect("status", await conn.execute(f"UPDATE {DIST} SET n = n + 1 WHERE id BETWEEN 1 AND 11"), "UPDATE 11")
        expect("sum(n)", await conn.fetchval(f"SELECT sum(n) FROM {DIST} WHERE id BETWEEN 1 AND 11"), 11)

    async def tx_error():
        tr = conn.transaction()
        await tr.start()
        try:
            await conn.execute(f"INSERT INTO {DIST} (id, v) VALUES (20, 'tx')")
            try:
                await conn.fetchval("SELECT 1/0")
                raise AssertionError("SELECT 1/0 succeeded")
            except asyncpg.PostgresError as e:
                expect("SQLSTATE of SELECT 1/0", e.sqlstate, "22012")
            try:
                await conn.fetchval("SELECT 1")
                raise AssertionError("SELECT 1 in a failed transaction succeeded")
            except asyncpg.PostgresError as e:
                expect("SQLSTATE in failed transaction", e.sqlstate, "25P02")
        finally:
            await tr.rollback()
        expect("rows with id 20 after ROLLBACK", await conn.fetchval(f"SELECT count(*) FROM {DIST} WHERE id = 20"), 0)

    async def prepared_reuse():
        st = await conn.prepare(f"SELECT v FROM {DIST} WHERE id = $1")
        for i in range(1, 11):
            expect(f"v of id {i}", await st.fetchval(i), "one" if i == 1 else f"r{i}")

    async def copy_in():
        # copy_records_to_table sends binary COPY data.
        status = await conn.copy_records_to_table(DIST, records=[(i, f"c{i}") for i in range(1001, 3001)], columns=["id", "v"])
        expect("status", status, "COPY 2000")

    async def copy_out():
        out = io.BytesIO()
        await conn.copy_from_table(DIST, columns=["id", "v"], output=out)
        lines = [ln.split("\t") for ln in out.getvalue().decode().splitlines()]
        for ln in lines:
            if 1001 <= int(ln[0]) <= 3000:
                expect("line", ln[1], "c" + ln[0])
        expect("lines = count(*)", len(lines), await conn.fetchval(f"SELECT count(*) FROM {DIST}"))
        if len(lines) < 11:
            raise AssertionError(f"only {len(lines)} lines")

    async def fetch_cursor():
        await conn.execute(f"INSERT INTO {DIST} (id, v) VALUES " + ", ".join(f"({i}, 'f{i}')" for i in range(5001, 7001)))
        ids = []
        async with conn.transaction():
            # Bind once, then Execute(prefetch rows) until the portal is done.
            async for r in conn.cursor(f"SELECT id, v FROM {DIST} WHERE id BETWEEN 5001 AND 7000", prefetch=100):
                ids.append(r["id"])
        expect("rows", len(ids), 2000)
        expect("sum of ids", sum(ids), (5001 + 7000) * 2000 // 2)

    async def types():
        vals = {
            "b": b"\x00\xff\x00\xde\xad\xbe\xef\\",
            "num": decimal.Decimal("12345678901234567890.123456789"),
            "ts": datetime.datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=datetime.timezone.utc),
            "u": uuid.UUID("6f1e0d6c-1b3a-4e1a-9f0e-442b8cd17a90"),
            "j": {"a": [1, 2, {"b": None}], "c": "ü"},
            "ia": [1, None, 3],
            "ta": ["a", "b c", None, 'ü"\\'],
        }
        await conn.execute(f"INSERT INTO {DIST} (id, v, b, num, ts, u, j, ia, ta) VALUES (500, $1, $2, $3, $4, $5, $6, $7, $8)",
                           None, vals["b"], vals["num"], vals["ts"], vals["u"], vals["j"], vals["ia"], vals["ta"])
        row = await conn.fetchrow(f"SELECT v, b, num, ts, u, j, ia, ta FROM {DIST} WHERE id = 500")
        expect("NULL", row["v"], None)
        for k, want in vals.items():
            expect(k, row[k], want)

    async def cancel():
        # On timeout asyncpg sends a CancelRequest and waits for the server
        # to end the statement before the connection is usable again.
        start = time.monotonic()
        try:
            await conn.execute(f"SELECT pg_sleep(30) FROM {DIST} WHERE id = 1", timeout=1)
            raise AssertionError("pg_sleep(30) was not cancelled")
        except asyncio.TimeoutError:
            pass
        except asyncpg.QueryCanceledError:
            pass
        expect("SELECT 1 after cancel", await asyncio.wait_for(conn.fetchval("SELECT 1"), 10), 1)
        el = time.monotonic() - start
        if el > 6:
            raise AssertionError(f"statement ended and session usable only after {el:.1f}s")

    async def listen_notify():
        lc = await connect(SSLMODE)
        got = asyncio.get_running_loop().create_future()
        try:
            await lc.add_listener(CH, lambda c, pid, ch, payload: got.done() or got.set_result((ch, payload)))
            await asyncio.sleep(0.2)
            await conn.execute("SELECT pg_notify($1, 'hello')", CH)
            try:
                expect("notification", await asyncio.wait_for(got, 5), (CH, "hello"))
            except asyncio.TimeoutError:
                raise AssertionError("no notification within 5s") from None
        finally:
            await lc.close()

    async def deallocate_discard():
        q = f"SELECT v FROM {DIST} WHERE id = $1"
        expect("v", await conn.fetchval(q, 1), "one")
        await conn.execute("DEALLOCATE ALL")
        # asyncpg's statement cache still names the dropped statements;
        # reload_schema_state() is its public way to forget them.
        await conn.reload_schema_state()
        expect("v", await conn.fetchval(q, 2), "r2")
        await conn.execute("DISCARD ALL")
        await conn.reload_schema_state()
        st = await conn.prepare(q)
        expect("v", await st.fetchval(3), "r3")
        expect("SELECT 1", await conn.fetchval("SELECT 1"), 1)

    for name, f in [
        ("create_tables", create_tables), ("create_distributed_table", create_dist),
        ("create_reference_table", create_ref), ("insert_select_single", insert_select_single),
        ("multirow_insert", multirow_insert), ("tx_cross_shard_update", tx_update),
        ("tx_error_rollback", tx_error), ("prepared_reuse", prepared_reuse), ("copy_in", copy_in),
        ("copy_out", copy_out), ("fetch_cursor", fetch_cursor), ("types_roundtrip", types),
        ("cancel", cancel), ("listen_notify", listen_notify), ("deallocate_discard", deallocate_discard),
    ]:
        if not await step(name, f):
            # A step that hung leaves the session mid-request: start a new one.
            conn.terminate()
            conn = await connect(SSLMODE)
            await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.close()


asyncio.run(main())
sys.exit(1 if failed else 0)
