#!/usr/bin/env bash
# pgbench against the compatibility scenario's distributed table (see
# ../README.md): compat.sql with -M simple, extended and prepared, TLS and
# SCRAM (COMPAT_SSLMODE, default require), 2 clients x 100 transactions
# each; a mode passes when pgbench exits 0 and reports 0 failed
# transactions. Connection parameters come from PGHOST, PGPORT, PGUSER,
# PGPASSWORD, PGDATABASE. Prints one line per step:
# STEP <name> PASS|FAIL <detail>.
set -u
cd "$(dirname "$0")"
DIST=compat_pgbench_dist
export PGSSLMODE=${COMPAT_SSLMODE:-require} PGCONNECT_TIMEOUT=10
CLIENTS=2
TX=100
failed=0

report() { # report NAME RC OUTPUT
	if [ "$2" -eq 0 ]; then
		echo "STEP $1 PASS"
	else
		failed=1
		echo "STEP $1 FAIL $(grep -m3 -i 'error\|fatal\|abort\|failed' <<<"$3" | tr '\n' ' ' | tr -s ' \t' ' ')"
	fi
}

sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@" 2>&1; }

out=$(sql -c "DROP TABLE IF EXISTS $DIST" -c "CREATE TABLE $DIST (id int PRIMARY KEY, v text, n int NOT NULL DEFAULT 0)")
report create_tables $? "$out"
out=$(sql -c "SELECT create_distributed_table('$DIST', 'id')")
report create_distributed_table $? "$out"
# One multi-row INSERT (not INSERT ... SELECT, which needs more of pgfed).
vals=$(seq 1 100 | awk -v q="'" '{ printf "%s(%d, %sv%d%s)", (NR > 1 ? ", " : ""), $1, q, $1, q }')
out=$(sql -c "INSERT INTO $DIST (id, v) VALUES $vals")
report load $? "$out"

modes=0
for mode in simple extended prepared; do
	out=$(pgbench -n -f compat.sql -M "$mode" -c $CLIENTS -j 1 -t $TX 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && ! grep -q 'number of transactions actually processed: '$((CLIENTS * TX))'/' <<<"$out"; then
		rc=1 out="$out
error: not every transaction was processed"
	fi
	if [ $rc -eq 0 ] && grep -q 'number of failed transactions: [1-9]' <<<"$out"; then
		rc=1 out="$out
error: $(grep 'number of failed transactions' <<<"$out")"
	fi
	[ $rc -eq 0 ] && modes=$((modes + 1))
	report "pgbench_$mode" $rc "$out"
done

# Every committed update is there: no update lost or applied twice.
out=$(sql -c "SELECT sum(n) FROM $DIST")
if [ "$out" = "$((modes * CLIENTS * TX))" ]; then
	report updates_counted 0 ""
else
	report updates_counted 1 "error: sum(n) = $out, want $((modes * CLIENTS * TX)) after $modes passing modes"
fi
exit $failed
