// Package compose holds the helper script of the repository's
// docker-compose.yml (register.sh) and the test that checks the compose
// file against pgfed itself. No container engine runs here, so the test
// checks what it can without one: the YAML parses (PyYAML, as on the
// project's machines) into the compose keys we use; every pgfed command
// line uses flags the built binary accepts; `pgfed federation init` run
// with the init service's own arguments succeeds and writes the files the
// other services name, with hosts that are services of the file; the
// registration script registers the workers under exactly the addresses
// init named them by; volumes, files and dependencies exist; and the
// workers' settings are the ones `pgfed dev` gives its workers.
package compose
