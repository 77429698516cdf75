package gtfs

import (
	"archive/zip"
	"io"
	"math"
	"sort"
	"strings"

	"piao/internal/network"
)

// Feed file names.
const (
	fileAgency         = "agency.txt"
	fileStops          = "stops.txt"
	fileRoutes         = "routes.txt"
	fileTrips          = "trips.txt"
	fileStopTimes      = "stop_times.txt"
	fileCalendar       = "calendar.txt"
	fileCalendarDates  = "calendar_dates.txt"
	fileTransfers      = "transfers.txt"
	fileFareAttributes = "fare_attributes.txt"
	fileFareRules      = "fare_rules.txt"
	fileFeedInfo       = "feed_info.txt"
)

// parsedFiles are the files read, in reading order.
var parsedFiles = []string{
	fileAgency, fileStops, fileRoutes, fileCalendar, fileCalendarDates, fileTrips,
	fileStopTimes, fileTransfers, fileFareAttributes, fileFareRules, fileFeedInfo,
}

// requiredFiles must be in every feed (and one of calendar.txt and calendar_dates.txt).
var requiredFiles = map[string]bool{fileAgency: true, fileStops: true, fileRoutes: true, fileTrips: true, fileStopTimes: true}

// singleAgencySource is the source ID given to the only agency of a feed
// when agency.txt leaves agency_id empty.
const singleAgencySource = "agency"

type parser struct {
	opts  Options
	files map[string]*zip.File
	prog  *progress
	b     *network.Bundle

	agencyIdx  map[string]int   // source agency_id → index in b.Agencies
	agencyLine []int            // agency.txt line of each agency
	stopIdx    map[string]int32 // source stop_id → index in b.Stations
	stopType   []int8           // location_type of each station
	zones      map[string]bool  // zone_ids of stops
	routeIdx   map[string]int32
	calIdx     map[string]int32
	tripIdx    map[string]int32
	tripLine   []int32 // trips.txt line of each trip
	fareIdx    map[string]int
	feedName   string
	nested     string // folder holding agency.txt when the feed is not at the archive's root
}

func newParser(r io.ReaderAt, size int64, opts Options) (*parser, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, &Error{Msg: "not a valid zip archive: " + err.Error(), MsgZH: "不是有效的 zip 压缩包：" + err.Error()}
	}
	p := &parser{
		opts:      opts,
		files:     map[string]*zip.File{},
		prog:      &progress{fn: opts.Progress},
		b:         &network.Bundle{},
		agencyIdx: map[string]int{},
		stopIdx:   map[string]int32{},
		zones:     map[string]bool{},
		routeIdx:  map[string]int32{},
		calIdx:    map[string]int32{},
		tripIdx:   map[string]int32{},
		fareIdx:   map[string]int{},
	}
	for _, f := range zr.File {
		if strings.Contains(f.Name, "/") || f.FileInfo().IsDir() {
			if dir, base, _ := strings.Cut(f.Name, "/"); base == fileAgency && p.nested == "" {
				p.nested = dir
			}
			continue
		}
		if _, dup := p.files[f.Name]; dup {
			return nil, newError(f.Name, 0, "", "该文件在压缩包中出现了两次", "file appears twice in the archive")
		}
		p.files[f.Name] = f
	}
	for _, name := range parsedFiles {
		if f := p.files[name]; f != nil {
			p.prog.total += int64(f.UncompressedSize64)
		}
	}
	return p, nil
}

func (p *parser) id(src string) string { return p.opts.FeedID + ":" + src }

// source strips the feed prefix from a record ID.
func (p *parser) source(id string) string { return id[len(p.opts.FeedID)+1:] }

func (p *parser) parse() error {
	for _, name := range parsedFiles {
		if requiredFiles[name] && p.files[name] == nil {
			if p.nested != "" {
				return newError(name, 0, "", "缺少必需的文件（GTFS 文件必须位于压缩包根目录，而不是 %s/ 文件夹中）", "missing required file (GTFS files must be at the archive's root, not in folder %s/)", p.nested)
			}
			return newError(name, 0, "", "缺少必需的文件", "missing required file")
		}
	}
	if p.files[fileCalendar] == nil && p.files[fileCalendarDates] == nil {
		return newError(fileCalendar, 0, "", "calendar.txt 与 calendar_dates.txt 至少需要一个", "missing required file: the feed needs calendar.txt or calendar_dates.txt")
	}
	steps := []func(*table) error{
		p.agencies, p.stops, p.routes, p.calendar, p.calendarDates, p.trips,
		p.stopTimes, p.transfers, p.fareAttributes, p.fareRules, p.feedInfo,
	}
	for i, name := range parsedFiles {
		f := p.files[name]
		if f == nil {
			continue
		}
		t, err := openTable(f, p.prog)
		if err != nil {
			return err
		}
		if t.header == nil && !requiredFiles[name] {
			t.close() // an empty optional file counts as absent
			continue
		}
		err = steps[i](t)
		t.close()
		if err != nil {
			return err
		}
	}
	p.prog.finish()

	b := p.b
	deriveMetroLines(b)
	b.Feed.Timezone = b.Agencies[0].Timezone
	b.Feed.Name = p.feedName
	if b.Feed.Name == "" {
		b.Feed.Name = b.Agencies[0].Name
	}
	return nil
}

// nonEmpty reports an empty field of the current row.
func nonEmpty(t *table, i int) error {
	if t.get(i) == "" {
		return t.errf(i, "不能为空", "must not be empty")
	}
	return nil
}

func (p *parser) agencies(t *table) error {
	if err := t.require("agency_name", "agency_url", "agency_timezone"); err != nil {
		return err
	}
	cID, cName, cURL, cTZ := t.col("agency_id"), t.col("agency_name"), t.col("agency_url"), t.col("agency_timezone")
	cLang, cPhone := t.col("agency_lang"), t.col("agency_phone")
	for err := range t.rows() {
		if err != nil {
			return err
		}
		for _, c := range []int{cName, cURL, cTZ} {
			if err := nonEmpty(t, c); err != nil {
				return err
			}
		}
		src := t.get(cID)
		if _, dup := p.agencyIdx[src]; dup {
			if src == "" {
				return t.errf(cID, "有多个运营机构时必须填写 agency_id", "agency_id is required when the feed has several agencies")
			}
			return t.errf(cID, "agency_id %q 重复", "duplicate agency_id %q", src)
		}
		tz := t.get(cTZ)
		if len(p.b.Agencies) > 0 && tz != p.b.Agencies[0].Timezone {
			return t.errf(cTZ, "所有运营机构的时区必须相同：%q 与 %q 不同", "all agencies must share one timezone: %q differs from %q", tz, p.b.Agencies[0].Timezone)
		}
		p.agencyIdx[src] = len(p.b.Agencies)
		p.agencyLine = append(p.agencyLine, t.line(cID))
		p.b.Agencies = append(p.b.Agencies, network.Agency{
			ID: src, FeedID: p.opts.FeedID, Name: t.get(cName), URL: t.get(cURL),
			Timezone: tz, Lang: t.get(cLang), Phone: t.get(cPhone),
		})
	}
	if len(p.b.Agencies) == 0 {
		return newError(t.name, 0, "", "没有运营机构", "no agencies")
	}
	if len(p.b.Agencies) > 1 {
		if i, ok := p.agencyIdx[""]; ok {
			return t.errAt(p.agencyLine[i], "agency_id", "有多个运营机构时必须填写 agency_id", "agency_id is required when the feed has several agencies")
		}
	}
	for i := range p.b.Agencies {
		a := &p.b.Agencies[i]
		if a.ID == "" {
			a.ID = p.id(singleAgencySource)
		} else {
			a.ID = p.id(a.ID)
		}
	}
	return nil
}

type pendingParent struct {
	station int32
	line    int
	parent  string
}

func (p *parser) stops(t *table) error {
	if err := t.require("stop_id", "stop_name", "stop_lat", "stop_lon"); err != nil {
		return err
	}
	cID, cCode, cName, cLat, cLon := t.col("stop_id"), t.col("stop_code"), t.col("stop_name"), t.col("stop_lat"), t.col("stop_lon")
	cZone, cURL, cType, cParent, cWheel := t.col("zone_id"), t.col("stop_url"), t.col("location_type"), t.col("parent_station"), t.col("wheelchair_boarding")
	var pending []pendingParent
	for err := range t.rows() {
		if err != nil {
			return err
		}
		if err := nonEmpty(t, cID); err != nil {
			return err
		}
		src := t.get(cID)
		if _, dup := p.stopIdx[src]; dup {
			return t.errf(cID, "stop_id %q 重复", "duplicate stop_id %q", src)
		}
		lt, ok := parseEnum(t.get(cType), 0, 4)
		if !ok {
			return t.errf(cType, "location_type %q 无效（应为 0–4）", "invalid location_type %q (want 0–4)", t.get(cType))
		}
		st := network.Station{ID: p.id(src), FeedID: p.opts.FeedID, Code: t.get(cCode), NameEN: t.get(cName), URL: t.get(cURL)}
		if lt <= 2 {
			if err := nonEmpty(t, cName); err != nil {
				return err
			}
		}
		if lt <= 2 || t.get(cLat) != "" || t.get(cLon) != "" {
			if st.Lat, ok = parseCoord(t.get(cLat), 90); !ok {
				return t.errf(cLat, "纬度 %q 无效（应在 -90 到 90 之间）", "invalid latitude %q (want -90 to 90)", t.get(cLat))
			}
			if st.Lon, ok = parseCoord(t.get(cLon), 180); !ok {
				return t.errf(cLon, "经度 %q 无效（应在 -180 到 180 之间）", "invalid longitude %q (want -180 to 180)", t.get(cLon))
			}
		}
		if st.Wheelchair, ok = parseEnum(t.get(cWheel), 0, 2); !ok {
			return t.errf(cWheel, "wheelchair_boarding %q 无效（应为 0–2）", "invalid wheelchair_boarding %q (want 0–2)", t.get(cWheel))
		}
		if z := t.get(cZone); z != "" {
			p.zones[z] = true
		}
		idx := int32(len(p.b.Stations))
		if parent := t.get(cParent); parent != "" || lt >= 2 {
			pending = append(pending, pendingParent{idx, t.line(cParent), parent})
		}
		p.stopIdx[src] = idx
		p.stopType = append(p.stopType, int8(lt))
		p.b.Stations = append(p.b.Stations, st)
	}
	for _, pp := range pending {
		lt := p.stopType[pp.station]
		if pp.parent == "" {
			return t.errAt(pp.line, "parent_station", "location_type 为 %d 的站点必须有 parent_station", "parent_station is required for location_type %d", lt)
		}
		if lt == 1 {
			return t.errAt(pp.line, "parent_station", "车站（location_type 1）不能有 parent_station", "a station (location_type 1) cannot have a parent_station")
		}
		pi, ok := p.stopIdx[pp.parent]
		if !ok {
			return t.errAt(pp.line, "parent_station", "未知的站点 %q", "unknown stop %q", pp.parent)
		}
		want := int8(1)
		if lt == 4 {
			want = 0
		}
		if p.stopType[pi] != want {
			return t.errAt(pp.line, "parent_station", "上级站点 %q 的 location_type 为 %d，应为 %d", "parent stop %q has location_type %d, want %d", pp.parent, p.stopType[pi], want)
		}
		p.b.Stations[pp.station].ParentID = p.id(pp.parent)
	}
	return nil
}

// validRouteType reports whether n is a GTFS route_type or an extended route type.
func validRouteType(n int) bool {
	return n <= 7 || n == 11 || n == 12 || n >= 100 && n <= 1799
}

// agencyFor resolves an optional agency_id of the current row.
func (p *parser) agencyFor(t *table, c int) (string, error) {
	src := t.get(c)
	if src == "" {
		if len(p.b.Agencies) == 1 {
			return p.b.Agencies[0].ID, nil
		}
		if c < 0 {
			return "", t.errAt(t.line(-1), "agency_id", "有多个运营机构时必须填写 agency_id", "agency_id is required when the feed has several agencies")
		}
		return "", t.errf(c, "有多个运营机构时必须填写 agency_id", "agency_id is required when the feed has several agencies")
	}
	i, ok := p.agencyIdx[src]
	if !ok {
		return "", t.errf(c, "未知的运营机构 %q", "unknown agency_id %q", src)
	}
	return p.b.Agencies[i].ID, nil
}

func (p *parser) routes(t *table) error {
	if err := t.require("route_id", "route_type"); err != nil {
		return err
	}
	cID, cAgency, cShort, cLong := t.col("route_id"), t.col("agency_id"), t.col("route_short_name"), t.col("route_long_name")
	cType, cColor, cText := t.col("route_type"), t.col("route_color"), t.col("route_text_color")
	for err := range t.rows() {
		if err != nil {
			return err
		}
		if err := nonEmpty(t, cID); err != nil {
			return err
		}
		src := t.get(cID)
		if _, dup := p.routeIdx[src]; dup {
			return t.errf(cID, "route_id %q 重复", "duplicate route_id %q", src)
		}
		l := network.Line{ID: p.id(src), FeedID: p.opts.FeedID, Code: t.get(cShort), NameEN: t.get(cLong)}
		if l.NameEN == "" {
			l.NameEN = l.Code
		}
		if l.NameEN == "" {
			c, col := cLong, "route_long_name"
			if c < 0 {
				c = cShort
				col = "route_short_name"
			}
			if c < 0 {
				return t.errAt(t.line(-1), col, "route_short_name 与 route_long_name 至少需要一个", "route_short_name or route_long_name is required")
			}
			return t.errf(c, "route_short_name 与 route_long_name 至少需要一个", "route_short_name or route_long_name is required")
		}
		if l.AgencyID, err = p.agencyFor(t, cAgency); err != nil {
			return err
		}
		rt, ok := parseUint(t.get(cType))
		if !ok || !validRouteType(rt) {
			return t.errf(cType, "route_type %q 无效", "invalid route_type %q", t.get(cType))
		}
		l.RouteType = rt
		if l.Color, ok = parseColor(t.get(cColor)); !ok {
			return t.errf(cColor, "颜色 %q 无效（应为六位十六进制数）", "invalid colour %q (want six hex digits)", t.get(cColor))
		}
		if l.TextColor, ok = parseColor(t.get(cText)); !ok {
			return t.errf(cText, "颜色 %q 无效（应为六位十六进制数）", "invalid colour %q (want six hex digits)", t.get(cText))
		}
		p.routeIdx[src] = int32(len(p.b.Lines))
		p.b.Lines = append(p.b.Lines, l)
	}
	return nil
}

var weekdayColumns = [7]string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

func (p *parser) calendar(t *table) error {
	if err := t.require(append([]string{"service_id", "start_date", "end_date"}, weekdayColumns[:]...)...); err != nil {
		return err
	}
	cID, cStart, cEnd := t.col("service_id"), t.col("start_date"), t.col("end_date")
	var cDays [7]int
	for i, n := range weekdayColumns {
		cDays[i] = t.col(n)
	}
	for err := range t.rows() {
		if err != nil {
			return err
		}
		var ok bool
		if err := nonEmpty(t, cID); err != nil {
			return err
		}
		src := t.get(cID)
		if _, dup := p.calIdx[src]; dup {
			return t.errf(cID, "service_id %q 重复", "duplicate service_id %q", src)
		}
		c := network.Calendar{ID: p.id(src), FeedID: p.opts.FeedID}
		for i, cd := range cDays {
			switch t.get(cd) {
			case "1":
				c.Weekdays[i] = true
			case "0":
			default:
				return t.errf(cd, "%q 无效（应为 0 或 1）", "invalid value %q (want 0 or 1)", t.get(cd))
			}
		}
		if c.Start, ok = parseDate(t.get(cStart)); !ok {
			return t.errf(cStart, "日期 %q 无效（应为 YYYYMMDD）", "invalid date %q (want YYYYMMDD)", t.get(cStart))
		}
		if c.End, ok = parseDate(t.get(cEnd)); !ok {
			return t.errf(cEnd, "日期 %q 无效（应为 YYYYMMDD）", "invalid date %q (want YYYYMMDD)", t.get(cEnd))
		}
		if c.End.Before(c.Start) {
			return t.errf(cEnd, "结束日期 %s 早于开始日期 %s", "end_date %s is before start_date %s", t.get(cEnd), t.get(cStart))
		}
		p.calIdx[src] = int32(len(p.b.Calendars))
		p.b.Calendars = append(p.b.Calendars, c)
	}
	return nil
}

func (p *parser) calendarDates(t *table) error {
	if err := t.require("service_id", "date", "exception_type"); err != nil {
		return err
	}
	cID, cDate, cType := t.col("service_id"), t.col("date"), t.col("exception_type")
	type key struct{ cal, date int32 }
	seen := map[key]bool{}
	for err := range t.rows() {
		if err != nil {
			return err
		}
		if err := nonEmpty(t, cID); err != nil {
			return err
		}
		d, ok := parseDate(t.get(cDate))
		if !ok {
			return t.errf(cDate, "日期 %q 无效（应为 YYYYMMDD）", "invalid date %q (want YYYYMMDD)", t.get(cDate))
		}
		var added bool
		switch t.get(cType) {
		case "1":
			added = true
		case "2":
		default:
			return t.errf(cType, "exception_type %q 无效（应为 1 或 2）", "invalid exception_type %q (want 1 or 2)", t.get(cType))
		}
		src := t.get(cID)
		ci, ok := p.calIdx[src]
		if !ok {
			ci = int32(len(p.b.Calendars))
			p.calIdx[src] = ci
			p.b.Calendars = append(p.b.Calendars, network.Calendar{ID: p.id(src), FeedID: p.opts.FeedID})
		}
		n, _ := parseUint(t.get(cDate))
		k := key{ci, int32(n)}
		if seen[k] {
			return t.errf(cDate, "服务 %[2]q 的日期 %[1]s 重复", "date %s listed twice for service_id %q", t.get(cDate), src)
		}
		seen[k] = true
		c := &p.b.Calendars[ci]
		c.Exceptions = append(c.Exceptions, network.CalendarException{Date: d, Added: added})
	}
	return nil
}

func (p *parser) trips(t *table) error {
	if err := t.require("route_id", "service_id", "trip_id"); err != nil {
		return err
	}
	cRoute, cService, cID := t.col("route_id"), t.col("service_id"), t.col("trip_id")
	cHeadsign, cShort, cDir, cShape := t.col("trip_headsign"), t.col("trip_short_name"), t.col("direction_id"), t.col("shape_id")
	for err := range t.rows() {
		if err != nil {
			return err
		}
		if err := nonEmpty(t, cID); err != nil {
			return err
		}
		src := t.get(cID)
		if _, dup := p.tripIdx[src]; dup {
			return t.errf(cID, "trip_id %q 重复", "duplicate trip_id %q", src)
		}
		ri, ok := p.routeIdx[t.get(cRoute)]
		if !ok {
			return t.errf(cRoute, "未知的线路 %q", "unknown route_id %q", t.get(cRoute))
		}
		ci, ok := p.calIdx[t.get(cService)]
		if !ok {
			return t.errf(cService, "未知的服务日历 %q", "unknown service_id %q", t.get(cService))
		}
		dir, ok := parseEnum(t.get(cDir), 0, 1)
		if !ok {
			return t.errf(cDir, "direction_id %q 无效（应为 0 或 1）", "invalid direction_id %q (want 0 or 1)", t.get(cDir))
		}
		s := network.Service{
			ID: p.id(src), FeedID: p.opts.FeedID, LineID: p.b.Lines[ri].ID, Number: t.get(cShort),
			CalendarID: p.b.Calendars[ci].ID, Headsign: t.get(cHeadsign), DirectionID: dir,
		}
		if s.Number == "" {
			s.Number = src
		}
		if sh := t.get(cShape); sh != "" {
			s.ShapeID = p.id(sh)
		}
		p.tripIdx[src] = int32(len(p.b.Services))
		p.tripLine = append(p.tripLine, int32(t.line(cID)))
		p.b.Services = append(p.b.Services, s)
	}
	return nil
}

// stopTime is one stop_times.txt row, kept compact until trips are assembled.
type stopTime struct {
	trip, seq, station int32
	arr, dep           int32 // seconds, -1 if empty
	line               int32
	pickup, drop       int8
	hasDist            bool
	dist               float64
}

func (p *parser) stopTimes(t *table) error {
	if err := t.require("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"); err != nil {
		return err
	}
	cTrip, cArr, cDep, cStop, cSeq := t.col("trip_id"), t.col("arrival_time"), t.col("departure_time"), t.col("stop_id"), t.col("stop_sequence")
	cPickup, cDrop, cDist := t.col("pickup_type"), t.col("drop_off_type"), t.col("shape_dist_traveled")
	est := int(p.files[fileStopTimes].UncompressedSize64 / 40)
	if est > 1<<20 {
		est = 1 << 20
	}
	rows := make([]stopTime, 0, est)
	for err := range t.rows() {
		if err != nil {
			return err
		}
		var r stopTime
		ti, ok := p.tripIdx[t.get(cTrip)]
		if !ok {
			return t.errf(cTrip, "未知的车次 %q", "unknown trip_id %q", t.get(cTrip))
		}
		r.trip = ti
		si, ok := p.stopIdx[t.get(cStop)]
		if !ok {
			return t.errf(cStop, "未知的站点 %q", "unknown stop_id %q", t.get(cStop))
		}
		if lt := p.stopType[si]; lt != 0 {
			return t.errf(cStop, "站点 %q 的 location_type 为 %d，列车只能停靠 location_type 0 的站点", "stop %q has location_type %d; trips can only call at stops (location_type 0)", t.get(cStop), lt)
		}
		r.station = si
		seq, ok := parseUint(t.get(cSeq))
		if !ok {
			return t.errf(cSeq, "stop_sequence %q 无效（应为非负整数）", "invalid stop_sequence %q (want a non-negative integer)", t.get(cSeq))
		}
		r.seq = int32(seq)
		r.arr, r.dep = -1, -1
		if s := t.get(cArr); s != "" {
			v, ok := parseTime(s)
			if !ok {
				return t.errf(cArr, "时间 %q 无效（应为 H:MM:SS）", "invalid time %q", s)
			}
			r.arr = int32(v)
		}
		if s := t.get(cDep); s != "" {
			v, ok := parseTime(s)
			if !ok {
				return t.errf(cDep, "时间 %q 无效（应为 H:MM:SS）", "invalid time %q", s)
			}
			r.dep = int32(v)
		}
		pu, ok := parseEnum(t.get(cPickup), 0, 3)
		if !ok {
			return t.errf(cPickup, "pickup_type %q 无效（应为 0–3）", "invalid pickup_type %q (want 0–3)", t.get(cPickup))
		}
		do, ok := parseEnum(t.get(cDrop), 0, 3)
		if !ok {
			return t.errf(cDrop, "drop_off_type %q 无效（应为 0–3）", "invalid drop_off_type %q (want 0–3)", t.get(cDrop))
		}
		r.pickup, r.drop = int8(pu), int8(do)
		if s := t.get(cDist); s != "" {
			if r.dist, ok = parseDistance(s); !ok {
				return t.errf(cDist, "shape_dist_traveled %q 无效（应为非负数）", "invalid shape_dist_traveled %q (want a non-negative number)", s)
			}
			r.hasDist = true
		}
		r.line = int32(t.line(-1))
		rows = append(rows, r)
	}
	return p.assemble(t, rows)
}

// assemble groups stop times by trip, orders them by stop_sequence, checks
// and interpolates their times and fills each service's stops.
func (p *parser) assemble(t *table, rows []stopTime) error {
	services := p.b.Services
	start := make([]int32, len(services)+1)
	for _, r := range rows {
		start[r.trip+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	order := make([]int32, len(rows))
	fill := append([]int32(nil), start[:len(services)]...)
	for i, r := range rows {
		order[fill[r.trip]] = int32(i)
		fill[r.trip]++
	}
	all := make([]network.Stop, len(rows))
	for ti := range services {
		idx := order[start[ti]:start[ti+1]]
		if len(idx) < 2 {
			return newError(fileTrips, int(p.tripLine[ti]), "trip_id", "车次 %q 只有 %d 个停站时刻，至少需要 2 个", "trip %q has %d stop time(s); at least 2 are needed", p.source(services[ti].ID), len(idx))
		}
		less := func(i, j int) bool { return rows[idx[i]].seq < rows[idx[j]].seq }
		if !sort.SliceIsSorted(idx, less) {
			sort.SliceStable(idx, less)
		}
		stops := all[start[ti]:start[ti+1]:start[ti+1]]
		if err := p.tripStops(t, services[ti].ID, rows, idx, stops); err != nil {
			return err
		}
		services[ti].Stops = stops
	}
	return nil
}

// tripStops checks one trip's ordered stop times and writes its stops.
func (p *parser) tripStops(t *table, tripID string, rows []stopTime, idx []int32, stops []network.Stop) error {
	trip := p.source(tripID)
	n := len(idx)
	for k, ri := range idx {
		r := &rows[ri]
		if k > 0 && r.seq == rows[idx[k-1]].seq {
			return t.errAt(int(r.line), "stop_sequence", "车次 %q 的 stop_sequence %d 重复", "stop_sequence %d repeats in trip %q", r.seq, trip)
		}
		// A stop with one time given uses it for both.
		if r.arr < 0 {
			r.arr = r.dep
		} else if r.dep < 0 {
			r.dep = r.arr
		}
		if r.arr < 0 && (k == 0 || k == n-1) {
			return t.errAt(int(r.line), "arrival_time", "车次 %q 的首末站必须有到发时刻", "the first and last stop of trip %q must have times", trip)
		}
	}
	// Times must never go backwards; distances must never decrease.
	lastDep, lastDist := int32(-1), -1.0
	for _, ri := range idx {
		r := &rows[ri]
		if r.arr >= 0 {
			if r.dep < r.arr {
				return t.errAt(int(r.line), "departure_time", "出发时刻 %s 早于到达时刻 %s", "departure_time %s is before arrival_time %s", FormatTime(int(r.dep)), FormatTime(int(r.arr)))
			}
			if r.arr < lastDep {
				return t.errAt(int(r.line), "arrival_time", "到达时刻 %s 早于上一站的出发时刻 %s", "arrival_time %s is before the previous stop's departure %s", FormatTime(int(r.arr)), FormatTime(int(lastDep)))
			}
			lastDep = r.dep
		}
		if r.hasDist {
			if r.dist < lastDist {
				return t.errAt(int(r.line), "shape_dist_traveled", "shape_dist_traveled 比上一站小", "shape_dist_traveled decreases along the trip")
			}
			lastDist = r.dist
		}
	}
	// Interpolate untimed stops between their timed neighbours, by
	// distance when every stop in the gap has one, else by stop count.
	prev := 0
	for k := 1; k < n; k++ {
		r := &rows[idx[k]]
		if r.arr < 0 {
			continue
		}
		if k-prev > 1 {
			a, b := &rows[idx[prev]], r
			span := float64(b.arr - a.dep)
			byDist := a.hasDist && b.hasDist && b.dist > a.dist
			for m := prev + 1; m < k && byDist; m++ {
				byDist = rows[idx[m]].hasDist
			}
			for m := prev + 1; m < k; m++ {
				var frac float64
				if byDist {
					frac = (rows[idx[m]].dist - a.dist) / (b.dist - a.dist)
				} else {
					frac = float64(m-prev) / float64(k-prev)
				}
				v := a.dep + int32(math.Round(span*frac))
				rows[idx[m]].arr, rows[idx[m]].dep = v, v
			}
		}
		prev = k
	}
	first := rows[idx[0]]
	for k, ri := range idx {
		r := &rows[ri]
		s := network.Stop{
			Seq: int(r.seq), StationID: p.b.Stations[r.station].ID, Arrive: int(r.arr), Depart: int(r.dep),
			Pickup: int(r.pickup), DropOff: int(r.drop),
		}
		if p.opts.ShapeDistUnitKm && r.hasDist {
			s.Metres = int(math.Round((r.dist - first.dist) * 1000))
		}
		stops[k] = s
	}
	return nil
}

func (p *parser) transfers(t *table) error {
	if err := t.require("from_stop_id", "to_stop_id", "transfer_type"); err != nil {
		return err
	}
	cFrom, cTo, cType, cMin := t.col("from_stop_id"), t.col("to_stop_id"), t.col("transfer_type"), t.col("min_transfer_time")
	cFromRoute, cToRoute, cFromTrip, cToTrip := t.col("from_route_id"), t.col("to_route_id"), t.col("from_trip_id"), t.col("to_trip_id")
	for err := range t.rows() {
		if err != nil {
			return err
		}
		var ok bool
		x := network.Transfer{FeedID: p.opts.FeedID}
		if x.Type, ok = parseEnum(t.get(cType), 0, 5); !ok {
			return t.errf(cType, "transfer_type %q 无效（应为 0–5）", "invalid transfer_type %q (want 0–5)", t.get(cType))
		}
		inSeat := x.Type >= 4
		for _, ref := range []struct {
			c   int
			dst *string
		}{{cFrom, &x.FromStationID}, {cTo, &x.ToStationID}} {
			src := t.get(ref.c)
			if src == "" {
				if inSeat {
					continue
				}
				return nonEmpty(t, ref.c)
			}
			si, ok := p.stopIdx[src]
			if !ok {
				return t.errf(ref.c, "未知的站点 %q", "unknown stop %q", src)
			}
			*ref.dst = p.b.Stations[si].ID
		}
		for _, ref := range []struct {
			c   int
			dst *string
		}{{cFromRoute, &x.FromLineID}, {cToRoute, &x.ToLineID}} {
			if src := t.get(ref.c); src != "" {
				ri, ok := p.routeIdx[src]
				if !ok {
					return t.errf(ref.c, "未知的线路 %q", "unknown route_id %q", src)
				}
				*ref.dst = p.b.Lines[ri].ID
			}
		}
		for _, ref := range []struct {
			c    int
			name string
			dst  *string
		}{{cFromTrip, "from_trip_id", &x.FromServiceID}, {cToTrip, "to_trip_id", &x.ToServiceID}} {
			src := t.get(ref.c)
			if src == "" {
				if inSeat {
					if ref.c < 0 {
						return t.errAt(t.line(-1), ref.name, "同车换乘（transfer_type 4、5）必须填写车次", "in-seat transfers (transfer_type 4, 5) need trip IDs")
					}
					return t.errf(ref.c, "同车换乘（transfer_type 4、5）必须填写车次", "in-seat transfers (transfer_type 4, 5) need trip IDs")
				}
				continue
			}
			ti, ok := p.tripIdx[src]
			if !ok {
				return t.errf(ref.c, "未知的车次 %q", "unknown trip_id %q", src)
			}
			*ref.dst = p.b.Services[ti].ID
		}
		if s := t.get(cMin); s != "" {
			if x.MinSeconds, ok = parseUint(s); !ok {
				return t.errf(cMin, "min_transfer_time %q 无效（应为非负整数秒）", "invalid min_transfer_time %q (want non-negative seconds)", s)
			}
		}
		p.b.Transfers = append(p.b.Transfers, x)
	}
	return nil
}

func (p *parser) fareAttributes(t *table) error {
	if err := t.require("fare_id", "price", "currency_type", "payment_method", "transfers"); err != nil {
		return err
	}
	cID, cPrice, cCur, cPay, cTransfers := t.col("fare_id"), t.col("price"), t.col("currency_type"), t.col("payment_method"), t.col("transfers")
	cAgency, cDuration := t.col("agency_id"), t.col("transfer_duration")
	for err := range t.rows() {
		if err != nil {
			return err
		}
		if err := nonEmpty(t, cID); err != nil {
			return err
		}
		src := t.get(cID)
		if _, dup := p.fareIdx[src]; dup {
			return t.errf(cID, "fare_id %q 重复", "duplicate fare_id %q", src)
		}
		var ok bool
		f := network.GTFSFare{ID: p.id(src), FeedID: p.opts.FeedID, Currency: t.get(cCur)}
		if !validCurrency(f.Currency) {
			return t.errf(cCur, "货币代码 %q 无效（应为 ISO 4217 三位大写字母）", "invalid currency_type %q (want an ISO 4217 code)", f.Currency)
		}
		if f.PriceMinor, ok = ParsePrice(t.get(cPrice), CurrencyDigits(f.Currency)); !ok {
			return t.errf(cPrice, "票价 %q 无效（%s 最多 %d 位小数）", "invalid price %q (want a non-negative amount with at most %[3]d decimals in %[2]s)", t.get(cPrice), f.Currency, CurrencyDigits(f.Currency))
		}
		if t.get(cPay) == "" {
			return nonEmpty(t, cPay)
		}
		if f.PaymentMethod, ok = parseEnum(t.get(cPay), 0, 1); !ok {
			return t.errf(cPay, "payment_method %q 无效（应为 0 或 1）", "invalid payment_method %q (want 0 or 1)", t.get(cPay))
		}
		if f.Transfers, ok = parseEnum(t.get(cTransfers), -1, 2); !ok {
			return t.errf(cTransfers, "transfers %q 无效（应为 0、1、2 或空）", "invalid transfers %q (want 0, 1, 2 or empty)", t.get(cTransfers))
		}
		if f.AgencyID, err = p.agencyFor(t, cAgency); err != nil {
			return err
		}
		if s := t.get(cDuration); s != "" {
			if f.TransferDuration, ok = parseUint(s); !ok {
				return t.errf(cDuration, "transfer_duration %q 无效（应为非负整数秒）", "invalid transfer_duration %q (want non-negative seconds)", s)
			}
		}
		p.fareIdx[src] = len(p.b.GTFSFares)
		p.b.GTFSFares = append(p.b.GTFSFares, f)
	}
	return nil
}

func (p *parser) fareRules(t *table) error {
	if err := t.require("fare_id"); err != nil {
		return err
	}
	cID, cRoute, cOrigin, cDest, cContains := t.col("fare_id"), t.col("route_id"), t.col("origin_id"), t.col("destination_id"), t.col("contains_id")
	for err := range t.rows() {
		if err != nil {
			return err
		}
		fi, ok := p.fareIdx[t.get(cID)]
		if !ok {
			return t.errf(cID, "未知的票价 %q", "unknown fare_id %q", t.get(cID))
		}
		var r network.FareRule
		if src := t.get(cRoute); src != "" {
			ri, ok := p.routeIdx[src]
			if !ok {
				return t.errf(cRoute, "未知的线路 %q", "unknown route_id %q", src)
			}
			r.LineID = p.b.Lines[ri].ID
		}
		for _, ref := range []struct {
			c   int
			dst *string
		}{{cOrigin, &r.OriginID}, {cDest, &r.DestinationID}, {cContains, &r.ContainsID}} {
			if z := t.get(ref.c); z != "" {
				if !p.zones[z] {
					return t.errf(ref.c, "未知的票价区 %q（没有站点的 zone_id 为它）", "unknown zone %q (no stop has this zone_id)", z)
				}
				*ref.dst = z
			}
		}
		f := &p.b.GTFSFares[fi]
		f.Rules = append(f.Rules, r)
	}
	return nil
}

func (p *parser) feedInfo(t *table) error {
	if t.header == nil {
		return nil
	}
	if err := t.require("feed_publisher_name", "feed_publisher_url", "feed_lang"); err != nil {
		return err
	}
	cName, cStart, cEnd := t.col("feed_publisher_name"), t.col("feed_start_date"), t.col("feed_end_date")
	rows := 0
	for err := range t.rows() {
		if err != nil {
			return err
		}
		if rows++; rows > 1 {
			return t.errf(-1, "feed_info.txt 只能有一行数据", "feed_info.txt must have exactly one row")
		}
		if err := nonEmpty(t, cName); err != nil {
			return err
		}
		for _, c := range []int{cStart, cEnd} {
			if s := t.get(c); s != "" {
				if _, ok := parseDate(s); !ok {
					return t.errf(c, "日期 %q 无效（应为 YYYYMMDD）", "invalid date %q (want YYYYMMDD)", s)
				}
			}
		}
		p.feedName = t.get(cName)
	}
	return nil
}
