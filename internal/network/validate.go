package network

import (
	"fmt"
	"strings"

	"piao/internal/fault"
)

// Validate rejects a bundle that is broken in ways a storage engine would
// otherwise report as opaque constraint failures: missing, duplicate or
// foreign-feed IDs, references to records the bundle does not hold, repeated
// sequences, and invalid car types, fares and fare bands. A nil bundle is
// invalid too. Every error has class fault.Invalid and reason
// "invalid_bundle", except those of Fare.Validate and CarType.Validate,
// which are passed on as they are.
//
// Validate only looks at the bundle itself: whether a service's car type is
// already stored, or an ID already belongs to another stored feed, is for
// the store to check.
func (b *Bundle) Validate() error {
	if b == nil {
		return invalidBundle("导入数据为空", "the bundle is empty")
	}
	feedID := b.Feed.ID
	if strings.TrimSpace(feedID) == "" {
		return invalidBundle("数据源缺少 ID", "the feed has no ID")
	}
	if b.Feed.Mode != ModeRail && b.Feed.Mode != ModeMetro {
		return invalidBundle(fmt.Sprintf("数据源类型 %q 无效", b.Feed.Mode), fmt.Sprintf("feed mode %q is not rail or metro", b.Feed.Mode))
	}
	if _, err := bundleIDs(feedID, recordKind{"运营商", "agency"}, b.Agencies, func(a Agency) (string, string) { return a.ID, a.FeedID }); err != nil {
		return err
	}
	stations, err := bundleIDs(feedID, recordKind{"车站", "station"}, b.Stations, func(s Station) (string, string) { return s.ID, s.FeedID })
	if err != nil {
		return err
	}
	if _, err := bundleIDs(feedID, recordKind{"线路", "line"}, b.Lines, func(l Line) (string, string) { return l.ID, l.FeedID }); err != nil {
		return err
	}
	for _, l := range b.Lines {
		seqs := map[int]bool{}
		for _, ls := range l.Stations {
			if !stations[ls.StationID] {
				return invalidBundle(fmt.Sprintf("线路 %s 经过不存在的车站 %s", l.ID, ls.StationID), fmt.Sprintf("line %s names unknown station %s", l.ID, ls.StationID))
			}
			if seqs[ls.Seq] {
				return invalidBundle(fmt.Sprintf("线路 %s 的站序 %d 重复", l.ID, ls.Seq), fmt.Sprintf("line %s repeats station sequence %d", l.ID, ls.Seq))
			}
			seqs[ls.Seq] = true
		}
	}
	calendars, err := bundleIDs(feedID, recordKind{"日历", "calendar"}, b.Calendars, func(c Calendar) (string, string) { return c.ID, c.FeedID })
	if err != nil {
		return err
	}
	for _, c := range b.Calendars {
		dates := map[string]bool{}
		for _, e := range c.Exceptions {
			d := e.Date.String()
			if d == "" || dates[d] {
				return invalidBundle(fmt.Sprintf("日历 %s 的例外日期缺失或重复", c.ID), fmt.Sprintf("calendar %s has a missing or repeated exception date", c.ID))
			}
			dates[d] = true
		}
	}
	services, err := bundleIDs(feedID, recordKind{"车次", "service"}, b.Services, func(s Service) (string, string) { return s.ID, s.FeedID })
	if err != nil {
		return err
	}
	for _, sv := range b.Services {
		if strings.TrimSpace(sv.Number) == "" {
			return invalidBundle(fmt.Sprintf("车次 %s 缺少车次号", sv.ID), fmt.Sprintf("service %s has no train number", sv.ID))
		}
		if !calendars[sv.CalendarID] {
			return invalidBundle(fmt.Sprintf("车次 %s 使用了不存在的日历 %s", sv.ID, sv.CalendarID), fmt.Sprintf("service %s names unknown calendar %s", sv.ID, sv.CalendarID))
		}
		seqs := map[int]bool{}
		for _, st := range sv.Stops {
			if !stations[st.StationID] {
				return invalidBundle(fmt.Sprintf("车次 %s 停靠不存在的车站 %s", sv.ID, st.StationID), fmt.Sprintf("service %s stops at unknown station %s", sv.ID, st.StationID))
			}
			if seqs[st.Seq] {
				return invalidBundle(fmt.Sprintf("车次 %s 的站序 %d 重复", sv.ID, st.Seq), fmt.Sprintf("service %s repeats stop sequence %d", sv.ID, st.Seq))
			}
			seqs[st.Seq] = true
		}
		cars := map[int]bool{}
		for _, c := range sv.Cars {
			if cars[c.No] || c.CarType == "" {
				return invalidBundle(fmt.Sprintf("车次 %s 的车厢 %d 重复或缺少类型", sv.ID, c.No), fmt.Sprintf("service %s car %d is repeated or has no car type", sv.ID, c.No))
			}
			cars[c.No] = true
		}
	}
	for i, t := range b.Transfers {
		if t.FromStationID == "" || t.ToStationID == "" {
			return invalidBundle(fmt.Sprintf("第 %d 条换乘缺少车站", i+1), fmt.Sprintf("transfer %d has no from or to station", i+1))
		}
	}
	codes := map[string]bool{}
	for _, ct := range b.CarTypes {
		if err := ct.Validate(); err != nil {
			return err
		}
		if codes[ct.Code] {
			return invalidBundle(fmt.Sprintf("车厢类型 %s 重复", ct.Code), fmt.Sprintf("duplicate car type %s", ct.Code))
		}
		codes[ct.Code] = true
	}
	fares := map[Fare]bool{}
	for _, f := range b.Fares {
		if !services[f.ServiceID] {
			return invalidBundle(fmt.Sprintf("票价使用了不存在的车次 %s", f.ServiceID), fmt.Sprintf("a fare names unknown service %s", f.ServiceID))
		}
		if err := f.Validate(); err != nil {
			return err
		}
		key := f
		key.Fen = 0
		if fares[key] {
			return invalidBundle(fmt.Sprintf("车次 %s 的票价重复", f.ServiceID), fmt.Sprintf("service %s has a repeated fare", f.ServiceID))
		}
		fares[key] = true
	}
	bands := map[int]bool{}
	for _, fb := range b.FareBands {
		if fb.UpToMetres < 0 || fb.Fen < 0 || bands[fb.UpToMetres] {
			return invalidBundle(fmt.Sprintf("距离票价段 %d 米无效或重复", fb.UpToMetres), fmt.Sprintf("fare band up to %d metres is negative or repeated", fb.UpToMetres))
		}
		bands[fb.UpToMetres] = true
	}
	if _, err := bundleIDs(feedID, recordKind{"GTFS 票价", "GTFS fare"}, b.GTFSFares, func(g GTFSFare) (string, string) { return g.ID, g.FeedID }); err != nil {
		return err
	}
	return nil
}

// invalidBundle is the error of a bundle that cannot be imported as it is.
func invalidBundle(zh, en string) error {
	return fault.New(fault.Invalid, "invalid_bundle", zh, en)
}

// recordKind names a kind of bundle record in both languages for messages.
type recordKind struct{ zh, en string }

// bundleIDs collects the IDs of one kind of record, rejecting empty and
// duplicate IDs and records claiming another feed.
func bundleIDs[T any](feedID string, kind recordKind, items []T, key func(T) (id, feed string)) (map[string]bool, error) {
	set := make(map[string]bool, len(items))
	for _, it := range items {
		id, feed := key(it)
		switch {
		case strings.TrimSpace(id) == "":
			return nil, invalidBundle(kind.zh+"缺少 ID", "a "+kind.en+" has no ID")
		case set[id]:
			return nil, invalidBundle(fmt.Sprintf("%s %s 重复", kind.zh, id), fmt.Sprintf("duplicate %s %s", kind.en, id))
		case feed != "" && feed != feedID:
			return nil, invalidBundle(fmt.Sprintf("%s %s 属于其他数据源 %s", kind.zh, id, feed), fmt.Sprintf("%s %s belongs to feed %s, not %s", kind.en, id, feed, feedID))
		}
		set[id] = true
	}
	return set, nil
}

// Validate checks that a fare names a service and two stations, has a known
// seat class and berth position, and is not negative. Errors have class
// fault.Invalid and reason "invalid_fare". Whether the service exists is for
// the store to check.
func (f Fare) Validate() error {
	if f.ServiceID == "" || f.FromStationID == "" || f.ToStationID == "" {
		return fault.New(fault.Invalid, "invalid_fare", "票价缺少车次或车站", "a fare needs a service and two stations")
	}
	if !f.SeatClass.Valid() {
		return fault.Newf(fault.Invalid, "invalid_fare", "席别 %q 无效", "seat class %q is not valid", f.SeatClass)
	}
	if !f.Berth.Valid() {
		return fault.Newf(fault.Invalid, "invalid_fare", "铺位 %q 无效", "berth %q is not valid", f.Berth)
	}
	if f.Fen < 0 {
		return fault.New(fault.Invalid, "invalid_fare", "票价不能为负数", "a fare cannot be negative")
	}
	return nil
}

// Validate checks a car layout before it is stored: it needs a code, a known
// seat class and at least one seat; every seat needs a label unique within
// the car and a known berth position. Errors have class fault.Invalid and
// reason "invalid_car_type".
func (ct CarType) Validate() error {
	if strings.TrimSpace(ct.Code) == "" {
		return fault.New(fault.Invalid, "invalid_car_type", "车厢类型缺少代码", "a car type needs a code")
	}
	if !ct.SeatClass.Valid() {
		return fault.Newf(fault.Invalid, "invalid_car_type", "车厢类型 %[1]s 的席别 %[2]q 无效", "car type %[1]s has invalid seat class %[2]q", ct.Code, ct.SeatClass)
	}
	if len(ct.Seats) == 0 {
		return fault.Newf(fault.Invalid, "invalid_car_type", "车厢类型 %s 没有座位", "car type %s has no seats", ct.Code)
	}
	labels := make(map[string]bool, len(ct.Seats))
	for _, seat := range ct.Seats {
		if strings.TrimSpace(seat.Label) == "" || labels[seat.Label] {
			return fault.Newf(fault.Invalid, "invalid_car_type", "车厢类型 %[1]s 的座位号 %[2]q 为空或重复", "car type %[1]s has an empty or repeated seat label %[2]q", ct.Code, seat.Label)
		}
		if !seat.Berth.Valid() {
			return fault.Newf(fault.Invalid, "invalid_car_type", "车厢类型 %[1]s 的铺位 %[2]q 无效", "car type %[1]s has invalid berth %[2]q", ct.Code, seat.Berth)
		}
		labels[seat.Label] = true
	}
	return nil
}

// Valid reports whether b is a berth position or NoBerth (a seat).
func (b Berth) Valid() bool {
	switch b {
	case NoBerth, Upper, Middle, Lower:
		return true
	}
	return false
}

// SearchPinyin is the form in which station search matches pinyin, both
// for a station's stored pinyin and for a query: lower case, with the
// separators PinyinInitials splits syllables on (space, apostrophe,
// hyphen) removed, so "Nan Chang" and "nan'chang" both become "nanchang".
func SearchPinyin(pinyin string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\'' || r == '-' {
			return -1
		}
		return r
	}, strings.ToLower(pinyin))
}
