package storetest_test

import (
	"flag"
	"os"
	"strconv"
	"testing"
)

// raceChecks is how many cases each rapid property of this package draws
// under the race detector, unless -rapid.checks says otherwise. The
// properties here (split or interrupted settlement runs equal one pass) are
// sequential and open a fresh database per case; under -race each case costs
// about 25 times more, and 100 of them took two minutes on an idle machine
// and past the 10-minute package limit on two busy cores. The plain run
// keeps rapid's 100; the race run is there for the concurrent tests.
const raceChecks = 20

func TestMain(m *testing.M) {
	flag.Parse()
	if raceEnabled && !flagGiven("rapid.checks") && os.Getenv("RAPID_CHECKS") == "" {
		if err := flag.Set("rapid.checks", strconv.Itoa(raceChecks)); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// flagGiven reports whether the named flag was set on the command line.
func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
