//go:build race

package simulate_test

// raceEnabled: the race detector makes the pure-Go SQLite about 25 times
// slower, so tests run smaller and the statistical ones are skipped (the
// small runs still cover every goroutine a run starts).
const raceEnabled = true
