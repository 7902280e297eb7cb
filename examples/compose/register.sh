#!/bin/sh
# pgfed-register: records the federation's organizations and their
# workers in the coordinator's catalog, through SQL (idempotent). Each
# worker is registered under its organization's gateway address, the only
# way the coordinator may reach it: organization K's gateway listens on
# its validator's host, "orgK-validator", at BASE_PORT + 20*(K-1) + 10 —
# the layout of `pgfed federation init --base-port BASE_PORT
# --host-of-org-template '{org}-validator'` (one worker per organization).
#
# Environment: ORGS (3), BASE_PORT (7000), PGHOST (coordinator),
# PGPORT (6432), PGUSER (postgres), PGDATABASE (postgres).
set -eu
ORGS=${ORGS:-3}
BASE_PORT=${BASE_PORT:-7000}
export PGHOST=${PGHOST:-coordinator} PGPORT=${PGPORT:-6432} PGUSER=${PGUSER:-postgres} PGDATABASE=${PGDATABASE:-postgres}

tries=0
until pg_isready -q; do
	tries=$((tries + 1))
	if [ "$tries" -ge 60 ]; then
		echo "pgfed-register: the coordinator at $PGHOST:$PGPORT does not answer" >&2
		exit 1
	fi
	sleep 1
done

k=1
while [ "$k" -le "$ORGS" ]; do
	org="org$k"
	host="$org-validator"
	port=$((BASE_PORT + 20 * (k - 1) + 10))
	psql -X -q -v ON_ERROR_STOP=1 \
		-c "SELECT pgfed_add_organization('$org')" \
		-c "SELECT citus_add_node('$host', $port)" \
		-c "SELECT pgfed_set_node_organization('$host', $port, '$org')" >/dev/null
	echo "pgfed-register: $org: worker behind gateway $host:$port"
	k=$((k + 1))
done
psql -X -c "SELECT * FROM pgfed_organizations ORDER BY name"
