package booking

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/network"
)

// Recommendations (R10, the paper's proposal 2): the trains of a search
// ranked by what the passenger says matters, each with the reason it stands
// where it does. Passenger C of seed 004 gave up T168 (19:07 → 13:00 next
// day) for Z66 (20:06 → 07:32) because the arrival time mattered more than
// price or berth; asked with "arrival" first, Z66 comes first and says so.

// Factor is something a passenger may rank trains by.
type Factor string

// The ranking factors.
const (
	ByArrival  Factor = "arrival"  // earliest arrival, or arriving by a time of day
	ByDuration Factor = "duration" // shortest journey
	ByPrice    Factor = "price"    // lowest fare of the seat chosen
	ByBerth    Factor = "berth"    // the wanted berth (lower unless said) left
)

// Factors lists every factor in the default order of importance.
var Factors = []Factor{ByArrival, ByDuration, ByPrice, ByBerth}

// Valid reports whether f is a known factor.
func (f Factor) Valid() bool { return slices.Contains(Factors, f) }

// Priorities say what matters to a passenger, most important first.
type Priorities struct {
	// By are the factors in order of importance; factors not named follow
	// in the default order (arrival, duration, price, berth), to break ties.
	// Empty means the default order.
	By []Factor `json:"by"`
	// Berth is the wanted berth position; when empty and berth is one of
	// the factors, a lower berth is wanted.
	Berth network.Berth `json:"berth,omitempty"`
	// Classes, when not empty, are the only seat classes acceptable.
	Classes []network.SeatClass `json:"classes,omitempty"`
	// ArriveBy, when not zero, is a time of day (after midnight, up to 24 h)
	// to arrive by: a train meets it when it arrives no later than the first
	// such time at or after its departure. The arrival factor then ranks by
	// how late a train arrives after it, so trains that meet it tie and the
	// next factor decides between them.
	ArriveBy time.Duration `json:"arrive_by,omitempty"`
}

// ParsePriorities reads priorities as the API and the H5 pages take them:
// by a comma-separated list of factors, berth a position, classes a
// comma-separated list of seat classes, arriveBy HH:MM ("" for none).
func ParsePriorities(by, berth, classes, arriveBy string) (Priorities, error) {
	var p Priorities
	for f := range strings.SplitSeq(by, ",") {
		if f = strings.TrimSpace(f); f != "" {
			p.By = append(p.By, Factor(f))
		}
	}
	p.Berth = network.Berth(strings.TrimSpace(berth))
	for c := range strings.SplitSeq(classes, ",") {
		if c = strings.TrimSpace(c); c != "" {
			p.Classes = append(p.Classes, network.SeatClass(c))
		}
	}
	if s := strings.TrimSpace(arriveBy); s != "" {
		d, err := parseClock(s)
		if err != nil {
			return Priorities{}, err
		}
		p.ArriveBy = d
	}
	return p, p.Validate()
}

// parseClock reads HH:MM as a time after midnight; 00:00 is midnight at
// the end of the day.
func parseClock(s string) (time.Duration, error) {
	bad := fault.Newf(fault.Invalid, "bad_arrive_by", "到达时间 %q 无效，应为 HH:MM", "arrive-by time %q is not HH:MM", s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, bad
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, bad
	}
	d := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
	if d == 0 {
		d = 24 * time.Hour
	}
	return d, nil
}

// Validate checks the factors, berth, classes and arrive-by time.
func (p Priorities) Validate() error {
	seen := map[Factor]bool{}
	for _, f := range p.By {
		if !f.Valid() {
			return fault.Newf(fault.Invalid, "bad_factor", "推荐依据 %q 无效，可选 arrival、duration、price、berth", "ranking factor %q is not one of arrival, duration, price, berth", f)
		}
		if seen[f] {
			return fault.Newf(fault.Invalid, "bad_factor", "推荐依据 %q 重复", "ranking factor %q is given twice", f)
		}
		seen[f] = true
	}
	if p.Berth != network.NoBerth && !p.Berth.Valid() {
		return fault.Newf(fault.Invalid, "bad_berth", "铺位 %q 无效，可选 lower、middle、upper", "berth %q is not one of lower, middle, upper", p.Berth)
	}
	for _, c := range p.Classes {
		if !c.Valid() {
			return fault.Newf(fault.Invalid, "bad_seat_class", "席别 %q 无效", "seat class %q is not valid", c)
		}
	}
	if p.ArriveBy < 0 || p.ArriveBy > 24*time.Hour {
		return fault.New(fault.Invalid, "bad_arrive_by", "到达时间无效", "the arrive-by time is not a time of day")
	}
	return nil
}

// order is every factor: the named ones first, then the rest by default.
func (p Priorities) order() []Factor {
	out := make([]Factor, 0, len(Factors))
	for _, f := range p.By {
		if f.Valid() && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, f := range Factors {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// wantedBerth is the berth the passenger wants, if any.
func (p Priorities) wantedBerth() network.Berth {
	if p.Berth != network.NoBerth {
		return p.Berth
	}
	if slices.Contains(p.By, ByBerth) || len(p.By) == 0 {
		return network.Lower
	}
	return network.NoBerth
}

// accepts reports whether a seat class is acceptable.
func (p Priorities) accepts(c network.SeatClass) bool {
	return len(p.Classes) == 0 || slices.Contains(p.Classes, c)
}

// ReasonText is a message in Simplified Chinese and English.
type ReasonText struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Score is one factor's value for a train; lower is better. Arrival is in
// minutes after midnight of the service date (or, with an arrive-by time,
// minutes late after it), duration in minutes, price in fen, berth 0 when
// the wanted berth is left and 1 when not.
type Score struct {
	Factor Factor `json:"factor"`
	Value  int64  `json:"value"`
}

// Recommendation is one train of a ranking.
type Recommendation struct {
	Rank  int   `json:"rank" doc:"1 for the best"`
	Offer Offer `json:"offer"`
	// Seat is the kind of seat recommended on the train: the wanted berth
	// if left, else the cheapest acceptable kind with seats left. Nil when
	// nothing acceptable is left.
	Seat      *Availability `json:"seat,omitempty"`
	Available bool          `json:"available" doc:"false when nothing acceptable is left; such trains come last"`
	Scores    []Score       `json:"scores" doc:"Every factor in the order used, lower is better"`
	// Deciding is the factor that puts this train before (or, for the last,
	// after) Versus; empty when nothing tells them apart but the timetable.
	Deciding Factor     `json:"deciding_factor,omitempty"`
	Versus   string     `json:"versus,omitempty" doc:"The train number it is compared with"`
	Reason   ReasonText `json:"reason"`
}

// Recommend ranks offers by p: trains with something acceptable left first,
// ordered factor by factor, then by arrival, departure, number and service
// ID so that the order never depends on the input's. Trains with nothing
// acceptable left follow, in the same order, with a reason saying so. Every
// offer appears exactly once. It does no I/O.
func Recommend(offers []Offer, p Priorities) []Recommendation {
	order := p.order()
	out := make([]Recommendation, len(offers))
	for i, o := range offers {
		r := Recommendation{Offer: o}
		r.Seat = chooseSeat(o, p)
		r.Available = r.Seat != nil
		for _, f := range order {
			r.Scores = append(r.Scores, Score{Factor: f, Value: scoreOf(f, o, r.Seat, p)})
		}
		out[i] = r
	}
	slices.SortStableFunc(out, func(a, b Recommendation) int { return compareRecs(a, b) })
	avail := 0
	for _, r := range out {
		if r.Available {
			avail++
		}
	}
	for i := range out {
		r := &out[i]
		r.Rank = i + 1
		switch {
		case !r.Available:
			r.Reason = soldOutReason(p)
		case avail == 1:
			r.Reason = ReasonText{"唯一有余票的车次", "the only train with seats left"}
		case i+1 < avail:
			r.Deciding, r.Versus, r.Reason = explain(*r, out[i+1], true, p)
		default:
			r.Deciding, r.Versus, r.Reason = explain(*r, out[i-1], false, p)
		}
	}
	return out
}

// Recommendations ranks the trains between two stations on a date by p.
func (s *Service) Recommendations(ctx context.Context, from, to string, date network.Date, p Priorities) ([]Recommendation, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	offers, err := s.Remaining(ctx, from, to, date)
	if err != nil {
		return nil, err
	}
	return Recommend(offers, p), nil
}

// chooseSeat picks the kind to recommend on a train: among acceptable kinds
// with seats left and a fare, the wanted berth first, then the cheapest,
// then by class and berth name.
func chooseSeat(o Offer, p Priorities) *Availability {
	want := p.wantedBerth()
	var best *Availability
	better := func(a, b Availability) bool {
		if am, bm := want != network.NoBerth && a.Berth == want, want != network.NoBerth && b.Berth == want; am != bm {
			return am
		}
		if a.FareFen != b.FareFen {
			return a.FareFen < b.FareFen
		}
		if a.SeatClass != b.SeatClass {
			return a.SeatClass < b.SeatClass
		}
		return a.Berth < b.Berth
	}
	for _, s := range o.Seats {
		if s.Remaining <= 0 || s.FareFen <= 0 || !p.accepts(s.SeatClass) {
			continue
		}
		if best == nil || better(s, *best) {
			best = &s // a copy: each iteration has its own s
		}
	}
	return best
}

// noValue ranks a train without an acceptable fare after every other.
const noValue = int64(1) << 62

// scoreOf is a train's value for one factor; lower is better.
func scoreOf(f Factor, o Offer, seat *Availability, p Priorities) int64 {
	switch f {
	case ByArrival:
		if p.ArriveBy > 0 {
			return int64(late(o, p.ArriveBy) / time.Minute)
		}
		return int64(o.Arrival.Sub(o.Date.In(o.Departure.Location())) / time.Minute)
	case ByDuration:
		return int64(o.DurationMin)
	case ByPrice:
		if seat != nil {
			return seat.FareFen
		}
		// Sold out: order by the cheapest acceptable fare, for the list's sake.
		v := noValue
		for _, s := range o.Seats {
			if s.FareFen > 0 && p.accepts(s.SeatClass) {
				v = min(v, s.FareFen)
			}
		}
		return v
	case ByBerth:
		if want := p.wantedBerth(); seat != nil && (want == network.NoBerth || seat.Berth == want) {
			return 0
		}
		return 1
	}
	return 0
}

// deadline is the first time of day by at or after the train's departure.
func deadline(o Offer, by time.Duration) time.Time {
	dep := o.Departure
	d := time.Date(dep.Year(), dep.Month(), dep.Day(), 0, 0, 0, 0, dep.Location()).Add(by)
	if d.Before(dep) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// late is how long after the arrive-by time the train arrives; 0 if in time.
func late(o Offer, by time.Duration) time.Duration {
	return max(o.Arrival.Sub(deadline(o, by)), 0)
}

// compareRecs orders available trains first, then factor by factor, then
// by arrival, departure, number and service ID.
func compareRecs(a, b Recommendation) int {
	if a.Available != b.Available {
		if a.Available {
			return -1
		}
		return 1
	}
	for i := range a.Scores {
		if c := cmpInt(a.Scores[i].Value, b.Scores[i].Value); c != 0 {
			return c
		}
	}
	if c := a.Offer.Arrival.Compare(b.Offer.Arrival); c != 0 {
		return c
	}
	if c := a.Offer.Departure.Compare(b.Offer.Departure); c != 0 {
		return c
	}
	if c := strings.Compare(a.Offer.Number, b.Offer.Number); c != 0 {
		return c
	}
	return strings.Compare(a.Offer.ServiceID, b.Offer.ServiceID)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// explain names the first factor that tells r from other: why r is before
// other (ahead) or after it (!ahead).
func explain(r, other Recommendation, ahead bool, p Priorities) (Factor, string, ReasonText) {
	versus := other.Offer.Number
	for i, s := range r.Scores {
		if s.Value == other.Scores[i].Value {
			continue
		}
		return s.Factor, versus, factorReason(s.Factor, r, other, ahead, p)
	}
	if ahead {
		return "", versus, ReasonText{
			fmt.Sprintf("各项与 %s 相同，发车时间 %s", versus, clockText(r.Offer.Departure)),
			fmt.Sprintf("equal to %s on every count; departs %s", versus, clockText(r.Offer.Departure)),
		}
	}
	return "", versus, ReasonText{
		fmt.Sprintf("各项与 %s 相同，排在其后", versus),
		fmt.Sprintf("equal to %s on every count; listed after it", versus),
	}
}

// factorReason words the difference between r and other in factor f.
func factorReason(f Factor, r, other Recommendation, ahead bool, p Priorities) ReasonText {
	vs := other.Offer.Number
	switch f {
	case ByArrival:
		at := clockText(r.Offer.Arrival)
		if p.ArriveBy > 0 {
			by := clockText(deadline(r.Offer, p.ArriveBy))
			l, ol := late(r.Offer, p.ArriveBy), late(other.Offer, p.ArriveBy)
			switch {
			case l == 0:
				return ReasonText{
					fmt.Sprintf("到达时间 %s，赶得上 %s；%s 晚到 %s", at, by, vs, spanZH(ol)),
					fmt.Sprintf("arrives %s, by %s; %s is %s late", at, by, vs, spanEN(ol)),
				}
			case ahead:
				return ReasonText{
					fmt.Sprintf("到达时间 %s，比要求的 %s 晚 %s，%s 晚 %s", at, by, spanZH(l), vs, spanZH(ol)),
					fmt.Sprintf("arrives %s, %s after %s; %s is %s late", at, spanEN(l), by, vs, spanEN(ol)),
				}
			}
			return ReasonText{
				fmt.Sprintf("到达时间 %s，比要求的 %s 晚 %s", at, by, spanZH(l)),
				fmt.Sprintf("arrives %s, %s after %s", at, spanEN(l), by),
			}
		}
		d := absDur(r.Offer.Arrival.Sub(other.Offer.Arrival))
		if ahead {
			return ReasonText{fmt.Sprintf("到达时间 %s，比 %s 早 %s", at, vs, spanZH(d)), fmt.Sprintf("arrives %s, %s earlier than %s", at, spanEN(d), vs)}
		}
		return ReasonText{fmt.Sprintf("到达时间 %s，比 %s 晚 %s", at, vs, spanZH(d)), fmt.Sprintf("arrives %s, %s later than %s", at, spanEN(d), vs)}
	case ByDuration:
		took := time.Duration(r.Offer.DurationMin) * time.Minute
		d := absDur(time.Duration(r.Offer.DurationMin-other.Offer.DurationMin) * time.Minute)
		if ahead {
			return ReasonText{fmt.Sprintf("历时 %s，比 %s 短 %s", spanZH(took), vs, spanZH(d)), fmt.Sprintf("takes %s, %s less than %s", spanEN(took), spanEN(d), vs)}
		}
		return ReasonText{fmt.Sprintf("历时 %s，比 %s 长 %s", spanZH(took), vs, spanZH(d)), fmt.Sprintf("takes %s, %s more than %s", spanEN(took), spanEN(d), vs)}
	case ByPrice:
		if r.Seat == nil {
			break
		}
		fare := yuanText(r.Seat.FareFen)
		d := other.Scores[scoreIndex(other, ByPrice)].Value - r.Seat.FareFen
		if ahead {
			return ReasonText{fmt.Sprintf("票价 %s，比 %s 便宜 %s", fare, vs, yuanText(d)), fmt.Sprintf("fare %s, %s less than %s", fare, yuanText(d), vs)}
		}
		return ReasonText{fmt.Sprintf("票价 %s，比 %s 贵 %s", fare, vs, yuanText(-d)), fmt.Sprintf("fare %s, %s more than %s", fare, yuanText(-d), vs)}
	case ByBerth:
		want := p.wantedBerth()
		if ahead {
			return ReasonText{fmt.Sprintf("有%s余票，%s 没有", berthZH(want), vs), fmt.Sprintf("%s berths left; %s has none", want, vs)}
		}
		return ReasonText{fmt.Sprintf("没有%s余票，%s 有", berthZH(want), vs), fmt.Sprintf("no %s berths left; %s has some", want, vs)}
	}
	return ReasonText{"", ""}
}

func scoreIndex(r Recommendation, f Factor) int {
	for i, s := range r.Scores {
		if s.Factor == f {
			return i
		}
	}
	return 0
}

// soldOutReason says why a train comes last.
func soldOutReason(p Priorities) ReasonText {
	if len(p.Classes) > 0 {
		return ReasonText{"无票：所选席别已售完", "sold out: no seats left in the classes asked for"}
	}
	return ReasonText{"无票：已售完", "sold out: no seats left"}
}

// berthZH names a berth position in Chinese.
func berthZH(b network.Berth) string {
	switch b {
	case network.Lower:
		return "下铺"
	case network.Middle:
		return "中铺"
	case network.Upper:
		return "上铺"
	}
	return "所选铺位"
}

// clockText is a time of day in the train's zone: 07:32.
func clockText(t time.Time) string { return t.Format("15:04") }

func absDur(d time.Duration) time.Duration { return max(d, -d) }

// spanZH and spanEN word a duration: 5 小时 28 分, 5 h 28 min.
func spanZH(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%d 分", m)
	case m == 0:
		return fmt.Sprintf("%d 小时", h)
	}
	return fmt.Sprintf("%d 小时 %d 分", h, m)
}

func spanEN(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}

// yuanText formats fen as ¥12.50.
func yuanText(fen int64) string { return fmt.Sprintf("¥%d.%02d", fen/100, fen%100) }
