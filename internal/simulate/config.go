package simulate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"piao/internal/demo"
	"piao/internal/network"
)

// Label is the population a simulated passenger belongs to: the ground
// truth that governance lists are measured against.
type Label string

// The populations of SPEC G5 and seed 004.
const (
	// Genuine travellers book, pay and travel; now and then one cancels a
	// typo or lets a hold run out before booking again.
	Genuine Label = "genuine"
	// BerthSeeker wants a lower berth on Z66, books "any berth" as 12306
	// assigns berths, and cancels until the berth is lower or patience runs
	// out (passengers A and B of seed 004).
	BerthSeeker Label = "berth_seeker"
	// Switcher gives up T168 for Z66 (passenger C), sometimes moving up
	// from hard to soft sleeper, and pays.
	Switcher Label = "switcher"
	// Scalper holds seats for many documents through many accounts, lets
	// most holds run out or cancels them, and rarely pays.
	Scalper Label = "scalper"
)

// Labels is every population in display order.
var Labels = []Label{Genuine, BerthSeeker, Switcher, Scalper}

// Valid reports whether l is a known population.
func (l Label) Valid() bool { return slices.Contains(Labels, l) }

// Kind refines a label by outcome: berth seekers end as SeekerPaid or
// SeekerGaveUp; every other population's kind is its label.
type Kind string

// Kinds. A berth seeker still seeking when the run ends has not paid and
// counts as SeekerGaveUp.
const (
	KindGenuine       = Kind(Genuine)
	SeekerPaid   Kind = "seeker_paid"
	SeekerGaveUp Kind = "seeker_gave_up"
	KindSwitcher      = Kind(Switcher)
	KindScalper       = Kind(Scalper)
)

// Kinds is every kind in display order.
var Kinds = []Kind{KindGenuine, SeekerPaid, SeekerGaveUp, KindSwitcher, KindScalper}

// Tag is the ground truth about one subject (a document or an account).
type Tag struct {
	Label Label `json:"label"`
	Kind  Kind  `json:"kind"`
	// Agent is the index of the simulated passenger in Result.Agents.
	Agent int `json:"agent"`
}

// Mix is the share of passengers in each population; shares sum to 1.
type Mix map[Label]float64

// DefaultMix is 60 % genuine, 20 % berth seekers, 10 % switchers and 10 %
// scalpers.
func DefaultMix() Mix {
	return Mix{Genuine: 0.6, BerthSeeker: 0.2, Switcher: 0.1, Scalper: 0.1}
}

// ParseMix reads "genuine=0.6,berth_seeker=0.2,switcher=0.1,scalper=0.1".
// Populations left out get no passengers.
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("mix entry %q: want label=share", part)
		}
		l := Label(strings.TrimSpace(name))
		if !l.Valid() {
			return nil, fmt.Errorf("mix entry %q: unknown population %q (want one of %s)", part, l, labelList())
		}
		if _, dup := m[l]; dup {
			return nil, fmt.Errorf("mix: population %s given twice", l)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("mix entry %q: share is not a number", part)
		}
		m[l] = f
	}
	return m, m.Validate()
}

func labelList() string {
	s := make([]string, len(Labels))
	for i, l := range Labels {
		s[i] = string(l)
	}
	return strings.Join(s, ", ")
}

// Validate checks that every share is a known population's, in [0, 1], and
// that they sum to 1.
func (m Mix) Validate() error {
	if len(m) == 0 {
		return fmt.Errorf("mix: no populations")
	}
	sum := 0.0
	for l, f := range m {
		if !l.Valid() {
			return fmt.Errorf("mix: unknown population %q (want one of %s)", l, labelList())
		}
		if math.IsNaN(f) || f < 0 || f > 1 {
			return fmt.Errorf("mix: share of %s is %v, want 0–1", l, f)
		}
		sum += f
	}
	if math.Abs(sum-1) > 1e-6 {
		return fmt.Errorf("mix: shares sum to %.4g, want 1", sum)
	}
	return nil
}

// String formats the mix in ParseMix's form, in display order.
func (m Mix) String() string {
	var parts []string
	for _, l := range Labels {
		if f, ok := m[l]; ok {
			parts = append(parts, string(l)+"="+strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return strings.Join(parts, ",")
}

// counts splits n passengers by the mix: largest remainders, ties in
// display order, so the counts sum to n.
func (m Mix) counts(n int) map[Label]int {
	out := map[Label]int{}
	type rem struct {
		l Label
		r float64
	}
	var rems []rem
	left := n
	for _, l := range Labels {
		exact := m[l] * float64(n)
		out[l] = int(math.Floor(exact))
		left -= out[l]
		rems = append(rems, rem{l, exact - math.Floor(exact)})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.r > b.r:
			return -1
		case a.r < b.r:
			return 1
		}
		return 0
	})
	for i := 0; left > 0; i = (i + 1) % len(rems) {
		if m[rems[i].l] > 0 {
			out[rems[i].l]++
			left--
		}
	}
	return out
}

// Config is one simulation.
type Config struct {
	// Seed makes the run reproducible: in process, the same seed, options
	// and start date give the same Result (but Wall).
	Seed uint64
	// Start is the first simulated day (default: the first day of the
	// driver's calendar, InProcessOptions.Start in process, today over
	// HTTP). The driver's trains must run on it.
	Start network.Date
	// Days is how many days are simulated (default 30).
	Days int
	// Trains are the train numbers passengers book (default Z66, T168); the
	// demo network's Z66, T168 and G488 are known.
	Trains []string
	// Passengers is how many simulated passengers there are (default 1000).
	Passengers int
	// Mix is the share of each population (default DefaultMix).
	Mix Mix
	// Preference makes berth seekers ask for a lower berth (SPEC R8, the
	// paper's proposal 1) instead of any berth; when none is left they fall
	// back to any berth and cancel as before.
	Preference bool
	// Waitlist (with Preference) makes a berth seeker for whom no lower
	// berth is left join the waitlist (候补, SPEC R9) for one, prepaid,
	// with a deadline a day before departure, instead of fishing; only
	// when the entry expires unserved does it fall back to any berth.
	Waitlist bool
	// KnownAccountLimit is the daily manual-cancel limit per account the
	// passengers believe in (12306: 3, the default): after that many
	// cancels in a day they move to another of their accounts before the
	// service refuses them. Negative: they learn only from refusals.
	KnownAccountLimit int
	// BeforeRun, if set, runs once every passenger and account exists and
	// before the first booking: the place to set governance rules.
	BeforeRun func(ctx context.Context) error
	// Progress, if set, is called as simulated hours pass (done of total).
	Progress func(done, total int)
}

// withDefaults fills in defaults and validates.
func (c Config) withDefaults() (Config, error) {
	if c.Days == 0 {
		c.Days = 30
	}
	if c.Days < 1 || c.Days > 366 {
		return c, fmt.Errorf("days must be 1–366, not %d", c.Days)
	}
	if c.Passengers == 0 {
		c.Passengers = 1000
	}
	if c.Passengers < 1 || c.Passengers > 1_000_000 {
		return c, fmt.Errorf("passengers must be 1–1000000, not %d", c.Passengers)
	}
	if len(c.Trains) == 0 {
		c.Trains = []string{"Z66", "T168"}
	}
	if c.Mix == nil {
		c.Mix = DefaultMix()
	}
	if err := c.Mix.Validate(); err != nil {
		return c, err
	}
	if c.Waitlist && !c.Preference {
		return c, fmt.Errorf("the waitlist arm needs preferences on: berth seekers join the waitlist when their lower-berth preference cannot be met")
	}
	if c.KnownAccountLimit == 0 {
		c.KnownAccountLimit = 3
	}
	c.Trains = slices.Clone(c.Trains)
	seen := map[string]bool{}
	for i, t := range c.Trains {
		t = strings.ToUpper(strings.TrimSpace(t))
		if _, ok := trainByNumber(t); !ok {
			return c, fmt.Errorf("unknown train %q: the simulation knows the demo trains %s", t, strings.Join(knownTrains(), ", "))
		}
		if seen[t] {
			return c, fmt.Errorf("train %s given twice", t)
		}
		seen[t] = true
		c.Trains[i] = t
	}
	if c.Mix[BerthSeeker] > 0 && len(c.sleepers()) == 0 {
		return c, fmt.Errorf("berth seekers need a sleeper train (Z66 or T168) in --trains")
	}
	if c.Mix[Switcher] > 0 && len(c.sleepers()) < 2 {
		return c, fmt.Errorf("switchers need two sleeper trains (T168 and Z66) in --trains")
	}
	return c, nil
}

// sleepers returns the configured trains with berths, in order.
func (c Config) sleepers() []trainDef {
	var out []trainDef
	for _, n := range c.Trains {
		if t, _ := trainByNumber(n); t.sleeper() {
			out = append(out, t)
		}
	}
	return out
}

// seekTrain is the train berth seekers want: Z66 when configured, else the
// first sleeper train.
func (c Config) seekTrain() trainDef {
	s := c.sleepers()
	for _, t := range s {
		if t.Number == "Z66" {
			return t
		}
	}
	return s[0]
}

// switchTrains are the trains switchers give up (T168 when configured) and
// take instead (seekTrain).
func (c Config) switchTrains() (from, to trainDef) {
	to = c.seekTrain()
	for _, t := range c.sleepers() {
		if t.Number != to.Number && (from.Number == "" || t.Number == "T168") {
			from = t
		}
	}
	return from, to
}

// trainDef is what passengers know of a demo train (internal/demo).
type trainDef struct {
	Number   string
	From, To string // station telecodes
	// Depart is the departure from From after midnight of the service date.
	Depart time.Duration
	// Classes and the share of passengers choosing each.
	Classes []network.SeatClass
	Shares  []float64
}

// serviceID is the train's service in the demo feed: booking by it skips
// looking the number up.
func (t trainDef) serviceID() string { return demo.RailFeed + ":" + t.Number }

func (t trainDef) sleeper() bool { return len(t.Classes) > 0 && len(t.Classes[0].Berths()) > 1 }

// demoTrains match internal/demo (a test checks they do).
var demoTrains = []trainDef{
	{"Z66", "NCG", "BXP", 20*time.Hour + 6*time.Minute, []network.SeatClass{network.HardSleeper, network.SoftSleeper}, []float64{0.75, 0.25}},
	{"T168", "NCG", "BXP", 19*time.Hour + 7*time.Minute, []network.SeatClass{network.HardSleeper, network.SoftSleeper}, []float64{0.85, 0.15}},
	{"G488", "NXG", "BXP", 8*time.Hour + 5*time.Minute, []network.SeatClass{network.SecondClass, network.FirstClass, network.Business}, []float64{0.85, 0.12, 0.03}},
}

func trainByNumber(n string) (trainDef, bool) {
	for _, t := range demoTrains {
		if t.Number == n {
			return t, true
		}
	}
	return trainDef{}, false
}

func knownTrains() []string {
	var s []string
	for _, t := range demoTrains {
		s = append(s, t.Number)
	}
	return s
}
