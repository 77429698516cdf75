//go:build race

package storetest_test

// raceEnabled: the tests are built with the race detector.
const raceEnabled = true
