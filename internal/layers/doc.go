// Package layers holds the test that keeps piao's import rules: which
// layer may import which (docs/ARCHITECTURE.md draws them). It has no code
// of its own; a rule broken here is a build of the house gone wrong, not a
// style point.
package layers
