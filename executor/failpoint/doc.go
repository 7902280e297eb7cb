// Package failpoint lets tests crash or fail pgfed at named steps of its
// protocols, from the outside: a test starts a pgfed process (or re-executes
// its own binary) with the environment variable PGFED_FAILPOINTS set, for
// example
//
//	PGFED_FAILPOINTS=2pc-after-prepare=exit,2pc-mid-commit=error
//
// and the process exits with status 3 at the first point named "exit", or
// fails the step at a point named "error" (Hit returns an *Error).
//
// The variable is read once, when the package is initialized; a malformed
// value is reported by Err and enables nothing. A test that runs the code
// under test in its own process may replace the active points with Set. When no failpoint is set,
// Hit costs one atomic load: the points stay in production code.
//
// The points pgfed defines are the constants of type Name; Hit accepts any
// name, so a package may add its own.
package failpoint
