// The compatibility scenario (see ../README.md) with node-postgres (pg),
// pg-cursor and pg-copy-streams. Connection parameters come from PGHOST,
// PGPORT, PGUSER, PGPASSWORD, PGDATABASE; COMPAT_SSLMODE (default require)
// is the main session's sslmode. Prints one line per step:
// STEP <name> PASS|FAIL|SKIP <detail>.
'use strict';

const net = require('net');
const { Readable, Writable } = require('stream');
const { pipeline } = require('stream/promises');
const { Client } = require('pg');
const Cursor = require('pg-cursor');
const copyStreams = require('pg-copy-streams');

const CLIENT = 'node';
const DIST = `compat_${CLIENT}_dist`;
const REF = `compat_${CLIENT}_ref`;
const CH = `compat_${CLIENT}`;
const SSLMODE = process.env.COMPAT_SSLMODE || 'require';
const STEP_TIMEOUT = 15000;
let failed = false;

function config(sslmode) {
  return {
    host: process.env.PGHOST || '127.0.0.1',
    port: Number(process.env.PGPORT || 6432),
    user: process.env.PGUSER || 'postgres',
    password: process.env.PGPASSWORD || '',
    database: process.env.PGDATABASE || 'postgres',
    ssl: sslmode === 'require' ? { rejectUnauthorized: false } : false,
    connectionTimeoutMillis: 10000,
  };
}

async function connect(sslmode) {
  const c = new Client(config(sslmode));
  c.on('error', () => {}); // reported by the step that uses it
  await c.connect();
  return c;
}

function expect(what, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

// step runs f and reports it; it returns false when f did not finish in
// STEP_TIMEOUT (the connection may then be stuck mid-request).
async function step(name, f) {
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), STEP_TIMEOUT); });
  try {
    const r = await Promise.race([f(), timeout]);
    if (r === 'timeout') {
      failed = true;
      console.log(`STEP ${name} FAIL no answer within ${STEP_TIMEOUT / 1000}s`);
      return false;
    }
    console.log(`STEP ${name} PASS`);
  } catch (e) {
    failed = true;
    const code = e && e.code ? ` (SQLSTATE ${e.code})` : '';
    console.log(`STEP ${name} FAIL ${String(e && e.message ? e.message : e).replace(/\s+/g, ' ')}${code}`);
  } finally {
    clearTimeout(timer);
  }
  return true;
}

async function expectCode(what, p, code) {
  try {
    await p;
  } catch (e) {
    expect(`${what} SQLSTATE (${e.message})`, e.code, code);
    return;
  }
  throw new Error(`${what} succeeded, want SQLSTATE ${code}`);
}

// cancelRequest sends a CancelRequest for c's backend on a new connection,
// as libpq's PQcancel does (node-postgres has no API for it).
function cancelRequest(c) {
  return new Promise((resolve, reject) => {
    const s = net.connect(c.port, c.host, () => {
      const b = Buffer.alloc(16);
      b.writeInt32BE(16, 0);
      b.writeInt32BE(80877102, 4);
      b.writeInt32BE(c.processID, 8);
      b.writeInt32BE(c.secretKey, 12);
      s.end(b);
    });
    s.on('error', reject);
    s.on('close', resolve);
  });
}

async function main() {
  let conn = null;
  await step('connect_tls_scram', async () => {
    const c = await connect(SSLMODE);
    if (SSLMODE === 'require') expect('TLS in use', Boolean(c.connection.stream.encrypted), true);
    conn = c;
  });
  await step('connect_plain', async () => {
    const c = await connect('disable');
    expect('SELECT 1', (await c.query('SELECT 1 AS one')).rows[0].one, 1);
    await c.end();
  });
  if (!conn) {
    console.log('STEP rest FAIL no TLS connection, remaining steps not run');
    process.exit(1);
  }
  const q = (text, values) => conn.query(text, values);

  const steps = [
    ['create_tables', async () => {
      await q(`DROP TABLE IF EXISTS ${DIST}, ${REF}`);
      await q(`CREATE TABLE ${DIST} (id int PRIMARY KEY, v text, n int DEFAULT 0, b bytea, num numeric, ts timestamptz, u uuid, j jsonb, ia int[], ta text[])`);
      await q(`CREATE TABLE ${REF} (id int PRIMARY KEY, name text)`);
    }],
    // Without values node-postgres sends a simple Query.
    ['create_distributed_table', async () => { await q(`SELECT create_distributed_table('${DIST}', 'id')`); }],
    ['create_reference_table', async () => { await q(`SELECT create_reference_table('${REF}')`); }],
    ['insert_select_single', async () => {
      await q(`INSERT INTO ${DIST} (id, v) VALUES ($1, $2)`, [1, 'one']);
      expect('v', (await q(`SELECT v FROM ${DIST} WHERE id = $1`, [1])).rows[0].v, 'one');
    }],
    ['multirow_insert', async () => {
      const vals = [];
      for (let i = 2; i <= 11; i++) vals.push(`(${i}, 'r${i}')`);
      expect('dist rows', (await q(`INSERT INTO ${DIST} (id, v) VALUES ${vals.join(', ')}`)).rowCount, 10);
      expect('ref rows', (await q(`INSERT INTO ${REF} VALUES ($1, $2), ($3, $4), ($5, $6)`, [1, 'a', 2, 'b', 3, 'c'])).rowCount, 3);
    }],
    ['tx_cross_shard_update', async () => {
      await q('BEGIN');
      try {
        expect('updated', (await q(`UPDATE ${DIST} SET n = n + 1 WHERE id BETWEEN 1 AND 11`)).rowCount, 11);
        await q('COMMIT');
      } catch (e) {
        await q('ROLLBACK');
        throw e;
      }
      expect('sum(n)', (await q(`SELECT sum(n)::int AS s FROM ${DIST} WHERE id BETWEEN 1 AND 11`)).rows[0].s, 11);
    }],
    ['tx_error_rollback', async () => {
      await q('BEGIN');
      try {
        await q(`INSERT INTO ${DIST} (id, v) VALUES ($1, 'tx')`, [20]);
        await expectCode('SELECT 1/0', q('SELECT 1/0'), '22012');
        await expectCode('SELECT $1 in failed transaction', q('SELECT $1::int', [1]), '25P02');
      } finally {
        await q('ROLLBACK');
      }
      expect('rows with id 20 after ROLLBACK', (await q(`SELECT count(*)::int AS n FROM ${DIST} WHERE id = 20`)).rows[0].n, 0);
    }],
    ['prepared_reuse', async () => {
      // A named query is parsed once, then only bound and executed.
      for (let i = 1; i <= 10; i++) {
        const r = await conn.query({ name: 'compat_sel', text: `SELECT v FROM ${DIST} WHERE id = $1`, values: [i] });
        expect(`v of id ${i}`, r.rows[0].v, i === 1 ? 'one' : `r${i}`);
      }
    }],
    ['copy_in', async () => {
      const lines = [];
      for (let i = 1001; i <= 3000; i++) lines.push(`${i}\tc${i}\n`);
      const s = conn.query(copyStreams.from(`COPY ${DIST} (id, v) FROM STDIN`));
      await pipeline(Readable.from(lines), s);
      expect('copied rows', s.rowCount, 2000);
    }],
    ['copy_out', async () => {
      const chunks = [];
      const s = conn.query(copyStreams.to(`COPY ${DIST} (id, v) TO STDOUT`));
      await pipeline(s, new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } }));
      const lines = Buffer.concat(chunks).toString().split('\n').filter((l) => l !== '');
      for (const line of lines) {
        const f = line.split('\t');
        const id = Number(f[0]);
        if (id >= 1001 && id <= 3000) expect('line', f[1], `c${f[0]}`);
      }
      expect('lines = count(*)', lines.length, (await q(`SELECT count(*)::int AS n FROM ${DIST}`)).rows[0].n);
      if (lines.length < 11) throw new Error(`only ${lines.length} lines`);
    }],
    ['fetch_cursor', async () => {
      // pg-cursor: Bind once, then Execute(100 rows) + Flush, answered by
      // PortalSuspended, until the portal is done.
      const vals = [];
      for (let i = 5001; i <= 7000; i++) vals.push(`(${i}, 'f${i}')`);
      await q(`INSERT INTO ${DIST} (id, v) VALUES ${vals.join(', ')}`);
      await q('BEGIN');
      let rows = 0;
      let sum = 0;
      try {
        const cur = conn.query(new Cursor(`SELECT id, v FROM ${DIST} WHERE id BETWEEN $1 AND $2`, [5001, 7000]));
        for (;;) {
          const batch = await cur.read(100);
          if (batch.length === 0) break;
          rows += batch.length;
          for (const r of batch) sum += r.id;
        }
        await cur.close();
        await q('COMMIT');
      } catch (e) {
        await q('ROLLBACK').catch(() => {});
        throw e;
      }
      expect('rows', rows, 2000);
      expect('sum of ids', sum, (5001 + 7000) * 2000 / 2);
    }],
    ['fetch_cursor_error', async () => {
      // An error while pg-cursor reads: it sends Execute + Flush and waits
      // for the ErrorResponse before it sends Sync.
      await q('BEGIN');
      try {
        const cur = conn.query(new Cursor(`SELECT 1 / (id - 5003) FROM ${DIST} WHERE id BETWEEN $1 AND $2`, [5001, 5005]));
        await expectCode('cursor over 1/0', cur.read(100), '22012');
      } finally {
        await q('ROLLBACK');
      }
      expect('SELECT 1 after the error', (await q('SELECT 1 AS one')).rows[0].one, 1);
    }],
    ['types_roundtrip', async () => {
      const b = Buffer.from([0, 0xff, 0, 0xde, 0xad, 0xbe, 0xef, 0x5c]);
      const num = '12345678901234567890.123456789';
      const ts = '2024-02-29 12:34:56.789012+00';
      const u = '6f1e0d6c-1b3a-4e1a-9f0e-442b8cd17a90';
      const j = { a: [1, 2, { b: null }], c: 'ü' };
      const ia = [1, null, 3];
      const ta = ['a', 'b c', null, 'ü"\\'];
      await q(`INSERT INTO ${DIST} (id, v, b, num, ts, u, j, ia, ta) VALUES (500, $1, $2, $3, $4, $5, $6, $7, $8)`,
        [null, b, num, ts, u, JSON.stringify(j), ia, ta]);
      const r = (await q(`SELECT v, b, num, ts, ts = $1::timestamptz AS ts_same, u, j, ia, ta FROM ${DIST} WHERE id = 500`, [ts])).rows[0];
      expect('NULL', r.v, null);
      expect('bytea', r.b.toString('hex'), b.toString('hex'));
      expect('numeric', r.num, num);
      expect('timestamptz (ms)', r.ts.toISOString(), '2024-02-29T12:34:56.789Z');
      expect('timestamptz (us, compared by the server)', r.ts_same, true);
      expect('uuid', r.u, u);
      expect('jsonb', r.j, j);
      expect('int[]', r.ia, ia);
      expect('text[]', r.ta, ta);
    }],
    ['cancel', async () => {
      const timer = setTimeout(() => cancelRequest(conn).catch((e) => console.error('cancel:', e)), 1000);
      const start = Date.now();
      try {
        await expectCode('pg_sleep(30)', q(`SELECT pg_sleep(30) FROM ${DIST} WHERE id = 1`), '57014');
      } finally {
        clearTimeout(timer);
      }
      const el = (Date.now() - start) / 1000;
      if (el > 6) throw new Error(`cancelled only after ${el}s`);
      expect('SELECT 1 after cancel', (await q('SELECT 1 AS one')).rows[0].one, 1);
    }],
    ['listen_notify', async () => {
      const lc = await connect(SSLMODE);
      try {
        const got = new Promise((resolve) => lc.on('notification', (n) => resolve([n.channel, n.payload])));
        await lc.query(`LISTEN ${CH}`);
        await new Promise((r) => setTimeout(r, 200));
        await q("SELECT pg_notify($1, 'hello')", [CH]);
        let timer;
        const none = new Promise((resolve) => { timer = setTimeout(() => resolve('none'), 5000); });
        const n = await Promise.race([got, none]);
        clearTimeout(timer);
        if (n === 'none') throw new Error('no notification within 5s');
        expect('notification', n, [CH, 'hello']);
      } finally {
        await lc.end();
      }
    }],
    ['deallocate_discard', async () => {
      const sel = (name, i) => conn.query({ name, text: `SELECT v FROM ${DIST} WHERE id = $1`, values: [i] });
      expect('v', (await sel('compat_d1', 1)).rows[0].v, 'one');
      await q('DEALLOCATE ALL');
      // node-postgres remembers which names it prepared; after DEALLOCATE ALL
      // an application uses new names (or a new connection).
      expect('v', (await sel('compat_d2', 2)).rows[0].v, 'r2');
      await q('DISCARD ALL');
      expect('v', (await sel('compat_d3', 3)).rows[0].v, 'r3');
      expect('v', (await q(`SELECT v FROM ${DIST} WHERE id = $1`, [4])).rows[0].v, 'r4');
    }],
  ];
  for (const [name, f] of steps) {
    if (!(await step(name, f))) {
      // A step that hung leaves the session mid-request: start a new one.
      conn.end().catch(() => {});
      conn = await connect(SSLMODE);
    }
  }
  await conn.end();
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
  console.log(`STEP rest FAIL ${e && e.stack ? e.stack.replace(/\s+/g, ' ') : e}`);
  process.exit(1);
});
