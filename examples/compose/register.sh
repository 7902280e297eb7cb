#!/bin/sh
# pgfed-register: records the federation's organizations and their
# workers in the coordinator's catalog, through SQL (idempotent), under the
# addresses `pgfed federation init` named them by (one worker per
# organization):
#
#   - GATEWAYS=true (docker-compose.yml, like pgfed dev --orgs): its
#     organization's gateway, on the validator's host "orgK-validator" at
#     BASE_PORT + 20*(K-1) + 10, the only way the coordinator then reaches
#     it;
#   - GATEWAYS=false: the worker's own address, "orgK-worker:WORKER_PORT".
#
# Environment: ORGS (3), GATEWAYS (true), BASE_PORT (7000), WORKER_PORT
# (5432), PGHOST (coordinator), PGPORT (6432), PGUSER (postgres),
# PGDATABASE (postgres).
set -eu
ORGS=${ORGS:-3}
GATEWAYS=${GATEWAYS:-true}
BASE_PORT=${BASE_PORT:-7000}
WORKER_PORT=${WORKER_PORT:-5432}
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
	if [ "$GATEWAYS" = true ]; then
		host="$org-validator"
		port=$((BASE_PORT + 20 * (k - 1) + 10))
	else
		host="$org-worker"
		port=$WORKER_PORT
	fi
	psql -X -q -v ON_ERROR_STOP=1 \
		-c "SELECT pgfed_add_organization('$org')" \
		-c "SELECT citus_add_node('$host', $port)" \
		-c "SELECT pgfed_set_node_organization('$host', $port, '$org')" >/dev/null
	echo "pgfed-register: $org: worker $host:$port"
	k=$((k + 1))
done
psql -X -c "SELECT * FROM pgfed_organizations ORDER BY name"
