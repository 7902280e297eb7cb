#!/usr/bin/env bash
# The compatibility scenario (see ../README.md) with psql, one psql session
# per step, each run with ON_ERROR_STOP=1 where the step expects no error.
# Connection parameters come from PGHOST, PGPORT, PGUSER, PGPASSWORD,
# PGDATABASE; COMPAT_SSLMODE (default require) is the sslmode of the steps.
# Prints one line per step: STEP <name> PASS|FAIL|SKIP <detail>.
#
# What psql cannot express: bound parameters (psql 15 has no \bind), so
# prepared_reuse uses SQL PREPARE/EXECUTE and everything goes through the
# simple query protocol; cancel is psql's own SIGINT handler sending a
# CancelRequest (psql then ends a non-interactive script, so the session's
# reuse after a cancel is shown with statement_timeout instead); a LISTEN
# session shows a notification only after its next command, so
# listen_notify checks that one arrives while the session sat idle.
set -u
CLIENT=psql
DIST=compat_${CLIENT}_dist
REF=compat_${CLIENT}_ref
CH=compat_${CLIENT}
SSLMODE=${COMPAT_SSLMODE:-require}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failed=0

# q runs psql on the scenario's session settings; extra arguments follow.
q() { psql "sslmode=$SSLMODE connect_timeout=10" -X -q -At -v ON_ERROR_STOP=1 -v dist="$DIST" -v ref="$REF" -v chk="$TMP/check.sql" "$@"; }

# step NAME runs the function step_NAME with stdin, stdout and stderr in
# files; the step passes when the function returns 0 and nothing printed
# CHECKFAIL.
step() {
	local name=$1 rc
	"step_$name" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	if [ $rc -eq 0 ] && ! grep -q CHECKFAIL "$TMP/out"; then
		echo "STEP $name PASS"
		return
	fi
	failed=1
	local detail
	detail=$( (grep -h 'CHECKFAIL\|ERROR\|FATAL\|error' "$TMP/out" "$TMP/err"; [ $rc -ne 0 ] && echo "psql exit $rc") | head -3 | tr '\n' ' ' | tr -s ' \t' ' ')
	echo "STEP $name FAIL $detail"
}

# A check inside a script: SELECT <bool> AS ok, <text> AS what \gset, then
# \ir :chk (which prints CHECKFAIL <what> unless ok).
cat >"$TMP/check.sql" <<'EOF'
\if :ok
\else
\echo CHECKFAIL :what
\endif
EOF

step_connect_tls_scram() {
	local out
	out=$(psql "sslmode=$SSLMODE connect_timeout=10" -X -c '\conninfo') || return 1
	echo "$out"
	if [ "$SSLMODE" = require ] && ! grep -q 'SSL connection' <<<"$out"; then echo "CHECKFAIL no SSL in \\conninfo"; fi
}

step_connect_plain() {
	[ "$(psql "sslmode=disable connect_timeout=10" -X -At -c 'SELECT 1')" = 1 ]
}

step_create_tables() {
	q <<EOF
DROP TABLE IF EXISTS :dist, :ref;
CREATE TABLE :dist (id int PRIMARY KEY, v text, n int DEFAULT 0, b bytea, num numeric, ts timestamptz, u uuid, j jsonb, ia int[], ta text[]);
CREATE TABLE :ref (id int PRIMARY KEY, name text);
EOF
}

step_create_distributed_table() { q -c "SELECT create_distributed_table('$DIST', 'id')"; }
step_create_reference_table() { q -c "SELECT create_reference_table('$REF')"; }

step_insert_select_single() {
	q <<EOF
INSERT INTO :dist (id, v) VALUES (1, 'one');
SELECT v = 'one' AS ok, 'v of id 1' AS what FROM :dist WHERE id = 1 \gset
\ir :chk
EOF
}

step_multirow_insert() {
	q <<EOF
INSERT INTO :dist (id, v) VALUES (2, 'r2'), (3, 'r3'), (4, 'r4'), (5, 'r5'), (6, 'r6'), (7, 'r7'), (8, 'r8'), (9, 'r9'), (10, 'r10'), (11, 'r11');
INSERT INTO :ref VALUES (1, 'a'), (2, 'b'), (3, 'c');
SELECT count(*) = 11 AS ok, 'rows 1..11' AS what FROM :dist WHERE id BETWEEN 1 AND 11 \gset
\ir :chk
SELECT count(*) = 3 AS ok, 'reference rows' AS what FROM :ref \gset
\ir :chk
EOF
}

step_tx_cross_shard_update() {
	q <<EOF
BEGIN;
UPDATE :dist SET n = n + 1 WHERE id BETWEEN 1 AND 11;
COMMIT;
SELECT sum(n) = 11 AS ok, 'sum(n) ' || sum(n) AS what FROM :dist WHERE id BETWEEN 1 AND 11 \gset
\ir :chk
EOF
}

step_tx_error_rollback() {
	q <<EOF
BEGIN;
INSERT INTO :dist (id, v) VALUES (20, 'tx');
\set ON_ERROR_STOP 0
SELECT 1/0;
\set e1 :SQLSTATE
SELECT 1;
\set e2 :SQLSTATE
\set ON_ERROR_STOP 1
ROLLBACK;
SELECT :'e1' = '22012' AND :'e2' = '25P02' AS ok, 'SQLSTATEs ' || :'e1' || ' ' || :'e2' AS what \gset
\ir :chk
SELECT count(*) = 0 AS ok, 'rows with id 20 after ROLLBACK' AS what FROM :dist WHERE id = 20 \gset
\ir :chk
EOF
}

step_prepared_reuse() {
	{
		echo "PREPARE compat_sel(int) AS SELECT v FROM :dist WHERE id = \$1;"
		for i in 1 2 3 4 5 6 7 8 9 10; do
			want=r$i
			[ $i = 1 ] && want=one
			echo "EXECUTE compat_sel($i) \\gset"
			echo "SELECT :'v' = '$want' AS ok, 'execution $i' AS what \\gset"
			echo "\\ir :chk"
		done
		echo "DEALLOCATE compat_sel;"
	} | q
}

step_copy_in() {
	seq 1001 3000 | awk '{print $1 "\tc" $1}' >"$TMP/in.tsv"
	q <<EOF
\copy $DIST (id, v) FROM '$TMP/in.tsv'
SELECT count(*) = 2000 AS ok, 'rows 1001..3000: ' || count(*) AS what FROM :dist WHERE id BETWEEN 1001 AND 3000 \gset
\ir :chk
EOF
}

step_copy_out() {
	q -c "\\copy $DIST (id, v) TO '$TMP/out.tsv'" || return 1
	local count
	count=$(q -c "SELECT count(*) FROM $DIST") || return 1
	awk -F'\t' -v count="$count" '{ n++ } $1 >= 1001 && $1 <= 3000 && $2 != "c" $1 { bad++ }
		END { if (n != count || n < 11 || bad) print "CHECKFAIL " n+0 " lines, count(*) " count ", " bad+0 " bad lines" }' "$TMP/out.tsv"
}

step_fetch_cursor() {
	# FETCH_COUNT makes psql read through DECLARE CURSOR / FETCH FORWARD 100.
	q -c "INSERT INTO $DIST (id, v) VALUES $(seq 5001 7000 | awk -v q="'" '{ printf "%s(%d, %sf%d%s)", (NR > 1 ? ", " : ""), $1, q, $1, q }')" || return 1
	q -v FETCH_COUNT=100 -c "SELECT id FROM $DIST WHERE id BETWEEN 5001 AND 7000" >"$TMP/fetch.txt" || return 1
	awk '{ n++; s += $1 } END { if (n != 2000 || s != 12001000) print "CHECKFAIL rows " n+0 ", sum " s+0 }' "$TMP/fetch.txt"
}

step_types_roundtrip() {
	q <<'EOF'
INSERT INTO :dist (id, v, b, num, ts, u, j, ia, ta) VALUES (500, NULL, '\x00ff00deadbeef5c', 12345678901234567890.123456789,
  '2024-02-29 12:34:56.789012+00', '6f1e0d6c-1b3a-4e1a-9f0e-442b8cd17a90', '{"a": [1, 2, {"b": null}], "c": "ü"}',
  '{1,NULL,3}', '{a,"b c",NULL,"ü\"\\"}');
SELECT concat_ws('|', coalesce(v, 'NULL'), b::text, num::text, ts AT TIME ZONE 'UTC', u::text, j::text, ia::text, ta::text) AS got
  FROM :dist WHERE id = 500 \gset
SELECT :'got' = 'NULL|\x00ff00deadbeef5c|12345678901234567890.123456789|2024-02-29 12:34:56.789012|6f1e0d6c-1b3a-4e1a-9f0e-442b8cd17a90|{"a": [1, 2, {"b": null}], "c": "ü"}|{1,NULL,3}|{a,"b c",NULL,"ü\"\\"}' AS ok,
  'got ' || :'got' AS what \gset
\ir :chk
EOF
}

step_cancel() {
	# SIGINT makes psql send a CancelRequest for the running statement.
	local pid start el
	start=$(date +%s%N)
	psql "sslmode=$SSLMODE connect_timeout=10" -X -v VERBOSITY=verbose -c "SELECT pg_sleep(30) FROM $DIST WHERE id = 1" >"$TMP/cancel.out" 2>&1 &
	pid=$!
	sleep 1
	kill -INT "$pid"
	wait "$pid"
	el=$((($(date +%s%N) - start) / 1000000))
	cat "$TMP/cancel.out"
	grep -q '57014' "$TMP/cancel.out" || echo "CHECKFAIL no SQLSTATE 57014 after SIGINT: $(tr '\n' ' ' <"$TMP/cancel.out")"
	[ "$el" -le 6000 ] || echo "CHECKFAIL cancelled only after ${el}ms"
	# statement_timeout cancels from the server side; the session goes on.
	q <<EOF
SET statement_timeout = '1s';
\set ON_ERROR_STOP 0
SELECT pg_sleep(5) FROM :dist WHERE id = 1;
\set e1 :SQLSTATE
\set ON_ERROR_STOP 1
RESET statement_timeout;
SELECT :'e1' = '57014' AS ok, 'statement_timeout gave SQLSTATE ' || :'e1' AS what \gset
\ir :chk
EOF
}

step_listen_notify() {
	# The listening session sits idle for 2s; the notification shows after
	# its next command.
	local pid
	{
		echo "LISTEN $CH;"
		sleep 3
		echo "SELECT 'listener-done';"
	} | q >"$TMP/listen.out" 2>&1 &
	pid=$!
	# Notify once the listener's LISTEN reached the metadata database.
	for _ in $(seq 50); do
		[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN $CH%'")" = 0 ] || break
		sleep 0.1
	done
	q -c "NOTIFY $CH, 'hello'" || return 1
	wait "$pid" || return 1
	cat "$TMP/listen.out"
	grep -q "Asynchronous notification \"$CH\" with payload \"hello\" received" "$TMP/listen.out" ||
		echo "CHECKFAIL no notification: $(tr '\n' ' ' <"$TMP/listen.out")"
}

step_deallocate_discard() {
	q <<EOF
PREPARE compat_p(int) AS SELECT v FROM :dist WHERE id = \$1;
EXECUTE compat_p(1);
DEALLOCATE ALL;
PREPARE compat_p(int) AS SELECT v FROM :dist WHERE id = \$1;
DISCARD ALL;
PREPARE compat_p(int) AS SELECT v FROM :dist WHERE id = \$1;
EXECUTE compat_p(3) \gset
SELECT :'v' = 'r3' AS ok, 'v ' || :'v' AS what \gset
\ir :chk
EOF
}

for s in connect_tls_scram connect_plain create_tables create_distributed_table create_reference_table \
	insert_select_single multirow_insert tx_cross_shard_update tx_error_rollback prepared_reuse copy_in \
	copy_out fetch_cursor types_roundtrip cancel listen_notify deallocate_discard; do
	step "$s"
done
exit $failed
