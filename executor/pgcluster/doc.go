// Package pgcluster creates and runs real PostgreSQL servers on this
// machine. It is the one harness behind `pgfed dev` and every integration
// test: nothing else in pgfed calls initdb or pg_ctl.
//
// A Root is a folder; each server is a data folder in it, named by its
// ServerSpec. Root.Server is idempotent: the first call for a name makes the
// data folder, later calls — in this process or another one after a crash —
// find it, and a server whose postmaster.pid names a live postmaster of that
// very folder is reused, never started twice. Servers listen on 127.0.0.1
// only, on a port picked once and recorded in the data folder, keep their
// unix socket in the data folder (never /var/run), trust every local
// connection, and have the superuser `postgres`. Each logs to server.log in
// its data folder; errors carry the tail of that log.
//
// Settings are a file the package owns, pgcluster.conf, included at the end
// of postgresql.conf and rewritten before every start: listen address,
// port, socket folder, logging, the Fast settings, then the spec's
// Settings. ALTER SYSTEM still wins over it.
//
// Speed. initdb takes about half a second and copying its output a tenth
// of that, so initdb runs once: into a template folder in a cache shared by
// every Root of the user on the machine (under /dev/shm or $TMPDIR, see
// StartForTest), built under a file lock by whichever process needs it
// first, and every new server is a copy of the template. All servers made
// from one template share a system identifier, which pgfed does not care
// about.
//
// Root. PostgreSQL refuses to run as root, and CI runs as root. When this
// process is root, initdb, pg_ctl and postgres run as the system user
// `postgres` (created with useradd if missing): data folders are handed to
// it, and every parent of a root folder is made traversable (o+x) for it.
//
// Tests. StartForTest is to PostgreSQL what httptest.NewServer is to HTTP:
// a fresh root with Fast settings under /dev/shm/pgfed-pgcluster-<uid> (or
// $TMPDIR/..., see StartForTest), the
// servers started in parallel, all stopped and removed at t.Cleanup. It
// fails the test loudly when PostgreSQL is missing or will not start, and
// skips only under -short. A test process killed before its cleanups leaves
// servers behind; each test root names its owner process (pid and start
// time), and the first StartForTest of a later process stops the servers of
// roots whose owner is gone and removes those roots.
//
// The main loop of a test:
//
//	servers := pgcluster.StartForTest(t,
//		pgcluster.ServerSpec{Name: "metadata"},
//		pgcluster.ServerSpec{Name: "worker1", Settings: pgcluster.WorkerSettings()},
//	)
//	conn, err := servers[1].Connect(ctx, "postgres")
//
// and of `pgfed dev`:
//
//	root, err := pgcluster.Open(dir, pgcluster.Options{Logger: log})
//	meta, err := root.Server(ctx, pgcluster.ServerSpec{Name: "metadata", Port: 5433})
//	...
//	err = root.StopAll(ctx)
package pgcluster
