// Package e2e holds end-to-end tests: they build the real piao binary once
// and drive it as operators do, over HTTP and the command line, through
// crashes and several processes on one database. The package has no code
// of its own; the tests are in package e2e_test.
package e2e
