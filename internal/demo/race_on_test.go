//go:build race

package demo_test

// raceEnabled: the race detector makes the pure-Go SQLite about 25 times
// slower, and the demo's simulated month takes minutes under it.
const raceEnabled = true
