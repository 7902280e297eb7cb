# pgfed — the two commands users need are `make run` and `make test`.

GO       ?= go
BIN      := bin/pgfed
PKGS     := ./...
# The longest any one test package may run under `make test`.
TEST_TIMEOUT ?= 25m
# How long each fuzz target runs in `make fuzz`.
FUZZTIME ?= 30s
# How long each fuzz target runs at the end of `make test`.
TEST_FUZZTIME ?= 10s

.PHONY: all build run test vet deps fuzz scp-sweep clean compat compat-deps bench bench-long bench-fed

all: build

# deps installs what the build and the tests need and the machine lacks:
# PostgreSQL's server programs (initdb, pg_ctl, postgres) and its clients
# (psql, pgbench), from the distribution's packages; and python3 with PyYAML,
# which the docker-compose.yml test parses the file with.
deps:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "deps: PostgreSQL server not found; installing it with apt-get"; \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql postgresql-contrib; \
		else \
			echo "deps: please install PostgreSQL 15+ (initdb, pg_ctl, postgres, psql, pgbench)" >&2; exit 1; \
		fi; \
	fi
	@if ! command -v psql >/dev/null 2>&1 || ! command -v pgbench >/dev/null 2>&1; then \
		echo "deps: psql or pgbench not found; installing postgresql-client"; \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-client postgresql; \
		else \
			echo "deps: please install psql and pgbench" >&2; exit 1; \
		fi; \
	fi
	@if ! python3 -c 'import yaml' >/dev/null 2>&1; then \
		echo "deps: python3 with PyYAML not found (examples/compose parses docker-compose.yml with it); installing python3-yaml"; \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-yaml; \
		else \
			echo "deps: please install python3 and PyYAML (python3-yaml)" >&2; exit 1; \
		fi; \
	fi

build:
	$(GO) build -o $(BIN) ./cmd/pgfed

# run builds pgfed and starts a local cluster under ./.pgfed (Ctrl-C stops it).
run: deps build
	./$(BIN) dev

vet:
	$(GO) vet $(PKGS)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted" >&2; exit 1; fi

# test runs every test with the race detector, against real PostgreSQL
# servers that the tests start themselves (fuzz targets replay their
# corpora there), then fuzzes every target briefly, then runs the client
# compatibility matrix (make compat).
test: deps vet
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME) FUZZCACHE=$$(mktemp -d) FUZZMINIMIZE=0s
	$(MAKE) --no-print-directory compat

# fuzz runs each fuzz target for FUZZTIME (new failing inputs land in the
# package's testdata/fuzz folder, to be committed with the fix). Under make
# test, FUZZCACHE is a fresh folder, so each target starts from the committed
# corpus alone: inputs a long local fuzzing run cached would otherwise make
# the baseline outlast the short FUZZTIME (which go test reports as a
# failure, "context deadline exceeded"); and FUZZMINIMIZE=0s turns off the
# minimizing of new inputs, which the end of a short FUZZTIME can cut off
# with the same error (a failing input is then written unminimized).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $(if $(FUZZMINIMIZE),-fuzzminimizetime $(FUZZMINIMIZE)) $$pkg $(if $(FUZZCACHE),-test.fuzzcachedir=$(FUZZCACHE)/$$f) || exit 1; \
		done; \
	done

# scp-sweep runs the consensus simulator over many more seeds than make test.
scp-sweep:
	PGFED_SCP_SEEDS=2000 $(GO) test -count=1 -timeout 2h -run Sim ./consensus/...

# bench compares pgfed with one plain PostgreSQL on this machine (pgbench -S
# in three query modes, TPC-B, cross-shard transfers, COPY, analytic queries),
# both measured in alternation in the same run, and prints each ratio against
# the issue's target; results also go to bench-results.json. A few minutes;
# BENCH_FLAGS=--quick is a smoke run of under a minute (see bin/pgfed bench -h).
BENCH_FLAGS ?=
bench: deps build
	./$(BIN) bench $(BENCH_FLAGS)

# bench-long is bench with longer runs, more rounds and a larger pgbench data
# set (5M accounts): about 35 minutes.
bench-long: deps build
	./$(BIN) bench --duration 20s --rounds 5 --scale 50 $(BENCH_FLAGS)

# bench-fed measures money transfers between two accounts through the
# coordinator: between banks of a `pgfed dev --orgs 3` and `--orgs 4`
# federation (the validators decide the commit) and, for comparison, between
# the two workers of a plain dev cluster (two-phase commit). It prints
# transfers per second and p50/p99 COMMIT and transaction latencies as a
# table and JSON (also in bench-fed-results.json); about 2 minutes.
BENCH_FED_FLAGS ?=
bench-fed: deps build
	./$(BIN) federation bench $(BENCH_FED_FLAGS)

# compat-deps installs the runtimes and drivers of the client compatibility
# suite that the machine lacks: Debian's JDBC driver and Python drivers
# (for /usr/bin/python3), a JDK and Node.js when missing, and node-postgres
# from testdata/compat/node/package-lock.json. A runtime that cannot be
# installed is reported; make compat then skips that client loudly.
COMPAT_DEBS := libpostgresql-jdbc-java python3-psycopg2 python3-psycopg python3-asyncpg
compat-deps: deps
	@missing=""; \
	for p in $(COMPAT_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v javac >/dev/null 2>&1 || missing="$$missing openjdk-17-jdk-headless"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "compat-deps: installing$$missing with apt-get"; \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing \
				|| echo "compat-deps: COULD NOT INSTALL$$missing; make compat will skip the clients that need them" >&2; \
		else \
			echo "compat-deps: please install$$missing; make compat will skip the clients that need them" >&2; \
		fi; \
	fi
	@if command -v npm >/dev/null 2>&1; then \
		cd testdata/compat/node && npm ci --no-audit --no-fund --loglevel=error \
			|| echo "compat-deps: npm ci FAILED; make compat will skip node" >&2; \
	else \
		echo "compat-deps: npm not found; make compat will skip node" >&2; \
	fi

# compat runs the same scenario with every popular client (pgx, lib/pq,
# psql, pgbench, JDBC, psycopg2, psycopg 3, asyncpg, node-postgres) against
# one dev cluster and prints a table of steps x clients (testdata/compat).
compat: compat-deps build
	PGFED=$(BIN) testdata/compat/run.sh

clean:
	rm -rf bin
