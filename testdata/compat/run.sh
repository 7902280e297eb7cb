#!/usr/bin/env bash
# run.sh is the driver of the client compatibility suite (make compat): it
# starts one pgfed dev cluster (SCRAM with a password, TLS offered), runs
# the same scenario with every client (see README.md), prints a table of
# steps x clients, and exits non-zero when any step failed.
#
#   PGFED=bin/pgfed            the pgfed binary (make compat builds it)
#   COMPAT_CLIENTS="pgx psql"  run only these clients (default: all)
#   COMPAT_KEEP=1              keep the work folder (cluster data, logs)
#   COMPAT_TARGET=host:port    run against that server (trust or PGPASSWORD)
#                              instead of a dev cluster, e.g. a plain
#                              PostgreSQL as a baseline (with
#                              COMPAT_SSLMODE=disable when it has no TLS)
#
# A client whose runtime is missing is SKIPPED with a loud banner; make
# compat-deps installs every runtime.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PGFED=${PGFED:-bin/pgfed}
ALL_CLIENTS="pgx pgx-batch pq psql pgbench jdbc psycopg2 psycopg3 asyncpg node"
CLIENTS=${COMPAT_CLIENTS:-$ALL_CLIENTS}
CLIENT_TIMEOUT=${COMPAT_CLIENT_TIMEOUT:-300}
PASSWORD=compat-$$-secret
PY=/usr/bin/python3 # Debian's interpreter, which has Debian's drivers

WORK=$(mktemp -d /tmp/pgfed-compat.XXXXXX)
chmod 755 "$WORK" # the PostgreSQL servers run as user postgres
RESULTS=$WORK/results
: >"$RESULTS"
DEV_PID=

stop_cluster() {
	if [ -n "$DEV_PID" ] && kill -0 "$DEV_PID" 2>/dev/null; then
		echo "compat: stopping the dev cluster (pid $DEV_PID)"
		kill -INT "$DEV_PID"
		for _ in $(seq 120); do
			kill -0 "$DEV_PID" 2>/dev/null || break
			sleep 0.5
		done
		if kill -0 "$DEV_PID" 2>/dev/null; then
			echo "compat: the dev cluster did not stop within 60s; killing pid $DEV_PID" >&2
			kill -KILL "$DEV_PID"
		fi
		wait "$DEV_PID" 2>/dev/null
	fi
	DEV_PID=
}
cleanup() {
	stop_cluster
	if [ "${COMPAT_KEEP:-}" = 1 ]; then
		echo "compat: work folder kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

loud() {
	echo
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
	echo "!!! $*"
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
	echo
}

# --- the cluster ---------------------------------------------------------
if [ -n "${COMPAT_TARGET:-}" ]; then
	HOST=${COMPAT_TARGET%:*} PORT=${COMPAT_TARGET##*:}
	PASSWORD=${PGPASSWORD:-}
	echo "compat: running against $HOST:$PORT (no dev cluster)"
else
	[ -x "$PGFED" ] || { echo "compat: $PGFED not found; run make build" >&2; exit 2; }
	echo "compat: starting a dev cluster in $WORK/dev"
	"$PGFED" dev --dir "$WORK/dev" --port 0 --workers 2 --auth scram --password "$PASSWORD" >"$WORK/dev.log" 2>&1 &
	DEV_PID=$!
	for _ in $(seq 240); do
		grep -q 'ready' "$WORK/dev.log" && break
		kill -0 "$DEV_PID" 2>/dev/null || break
		sleep 0.5
	done
	ready=$(grep -m1 'ready, coordinator on' "$WORK/dev.log")
	if [ -z "$ready" ]; then
		echo "compat: the dev cluster did not become ready; its log:" >&2
		tail -30 "$WORK/dev.log" >&2
		exit 2
	fi
	addr=$(sed -E 's/.*coordinator on ([^ ]+).*/\1/' <<<"$ready")
	HOST=${addr%:*} PORT=${addr##*:}
	echo "compat: $ready"
fi
export PGHOST=$HOST PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres PGPASSWORD=$PASSWORD

# --- the clients -----------------------------------------------------------
# skip NAME WHY records a client that cannot run, loudly.
skip() {
	loud "CLIENT $1 SKIPPED: $2"
	echo "$1 (client) SKIP $2" >>"$RESULTS"
}

# command_for NAME prints the command that runs the client, after building
# what it needs; it returns 1 (having called skip) when it cannot run.
command_for() {
	case $1 in
	pgx | pgx-batch | pq)
		command -v go >/dev/null || { skip "$1" "no go toolchain"; return 1; }
		local pkg=$1 args=
		case $1 in pgx) args="-mode default" ;; pgx-batch) pkg=pgx args="-mode batch" ;; esac
		if [ ! -x "$WORK/$pkg" ]; then
			go build -o "$WORK/$pkg" "./testdata/compat/$pkg" >"$WORK/build-$pkg.log" 2>&1 ||
				{ skip "$1" "go build failed: $(tail -3 "$WORK/build-$pkg.log" | tr '\n' ' ')"; return 1; }
		fi
		echo "$WORK/$pkg $args"
		;;
	psql | pgbench)
		command -v "$1" >/dev/null || { skip "$1" "$1 is not installed (make deps)"; return 1; }
		echo "testdata/compat/$1/run.sh"
		;;
	jdbc)
		local jar=/usr/share/java/postgresql.jar
		command -v javac >/dev/null || { skip jdbc "no javac (a JDK 17)"; return 1; }
		[ -f "$jar" ] || { skip jdbc "$jar missing (apt-get install libpostgresql-jdbc-java)"; return 1; }
		mkdir -p "$WORK/jdbc"
		javac -d "$WORK/jdbc" -cp "$jar" testdata/compat/jdbc/Compat.java >"$WORK/build-jdbc.log" 2>&1 ||
			{ skip jdbc "javac failed: $(tail -3 "$WORK/build-jdbc.log" | tr '\n' ' ')"; return 1; }
		echo "java -cp $WORK/jdbc:$jar Compat"
		;;
	psycopg2 | psycopg3 | asyncpg)
		local mod=$1
		[ "$1" = psycopg3 ] && mod=psycopg
		[ -x "$PY" ] || { skip "$1" "$PY missing"; return 1; }
		"$PY" -c "import $mod" 2>/dev/null || { skip "$1" "$PY cannot import $mod (apt-get install python3-$mod)"; return 1; }
		echo "$PY testdata/compat/$1/compat.py"
		;;
	node)
		command -v node >/dev/null || { skip node "node is not installed"; return 1; }
		[ -d testdata/compat/node/node_modules/pg ] || { skip node "testdata/compat/node/node_modules missing (make compat-deps runs npm ci)"; return 1; }
		echo "node testdata/compat/node/compat.js"
		;;
	*)
		skip "$1" "unknown client"
		return 1
		;;
	esac
}

for client in $CLIENTS; do
	cmd=$(command_for "$client") || continue
	echo
	echo "=== $client: $cmd"
	start=$(date +%s)
	COMPAT_CLIENT=$client timeout -k 10 "$CLIENT_TIMEOUT" $cmd >"$WORK/$client.out" 2>"$WORK/$client.err"
	rc=$?
	sed "s/^/  /" "$WORK/$client.out"
	if [ -s "$WORK/$client.err" ]; then
		echo "  --- stderr:"
		tail -20 "$WORK/$client.err" | sed "s/^/  | /"
	fi
	grep '^STEP ' "$WORK/$client.out" | while read -r _ step status detail; do
		echo "$client $step $status $detail" >>"$RESULTS"
	done
	if [ $rc -ne 0 ] && ! grep -q '^STEP [^ ]* FAIL' "$WORK/$client.out"; then
		why="exit status $rc"
		[ $rc -eq 124 ] && why="timed out after ${CLIENT_TIMEOUT}s"
		echo "$client (client) FAIL $why: $(tail -3 "$WORK/$client.err" | tr '\n' ' ')" >>"$RESULTS"
	fi
	echo "=== $client: $(($(date +%s) - start))s, exit $rc"
done

# Is the coordinator still alive after every client?
if [ -n "$DEV_PID" ] && ! kill -0 "$DEV_PID" 2>/dev/null; then
	echo "pgfed (cluster) FAIL the dev cluster exited during the run; see its log" >>"$RESULTS"
	tail -30 "$WORK/dev.log"
fi
stop_cluster

# --- the table -------------------------------------------------------------
echo
echo "Client compatibility (pgfed $("$PGFED" version 2>/dev/null | head -1), $(date -u +%Y-%m-%dT%H:%MZ))"
echo
awk -v clients="$CLIENTS" '
	{ c = $1; s = $2; st = $3; res[c, s] = st; if (!(s in seen)) { seen[s] = 1; order[++n] = s } }
	END {
		nc = split(clients, cl, " ")
		printf "%-26s", "step"
		for (i = 1; i <= nc; i++) printf " %-9s", cl[i]
		printf "\n"
		for (k = 1; k <= n; k++) {
			s = order[k]
			printf "%-26s", s
			for (i = 1; i <= nc; i++) {
				v = ((cl[i], s) in res) ? res[cl[i], s] : "-"
				printf " %-9s", v
			}
			printf "\n"
		}
	}' "$RESULTS"
echo
echo "(- = the client has no such step; SKIP = the client cannot express the step)"

fails=$(grep -c ' FAIL' "$RESULTS")
skips=$(grep -c '(client) SKIP' "$RESULTS")
passes=$(awk '$3 == "PASS"' "$RESULTS" | wc -l)
stepskips=$(awk '$2 != "(client)" && $3 == "SKIP"' "$RESULTS" | wc -l)
if [ "$fails" -gt 0 ]; then
	echo
	echo "Failures:"
	grep ' FAIL' "$RESULTS" | sed 's/^/  /' | cut -c1-400
fi
if [ "$skips" -gt 0 ]; then
	loud "$skips CLIENT(S) SKIPPED: $(grep '(client) SKIP' "$RESULTS" | cut -d' ' -f1 | tr '\n' ' ')"
fi
if [ "$fails" -gt 0 ]; then
	echo "compat: $fails failing step(s)"
	echo "compat: $passes passed, $fails failed, $stepskips skipped"
	exit 1
fi
echo "compat: every step of every client passed"
echo "compat: $passes passed, $fails failed, $stepskips skipped"
