package network_test

import (
	"testing"

	"piao/internal/fault"
	"piao/internal/network"
)

// validBundle is a small rail feed that passes Validate and touches every
// check. Each call returns a fresh bundle so cases may change it freely.
func validBundle() *network.Bundle {
	const f = "t"
	return &network.Bundle{
		Feed:     network.Feed{ID: f, Name: "测试铁路", Mode: network.ModeRail, Timezone: "Asia/Shanghai"},
		Agencies: []network.Agency{{ID: "t:cr", FeedID: f, Name: "中国铁路"}},
		Stations: []network.Station{
			{ID: "t:NCG", FeedID: f, Code: "NCG", NameZH: "南昌"},
			{ID: "t:BXP", Code: "BXP", NameZH: "北京西"}, // an empty FeedID means the bundle's feed
		},
		Lines: []network.Line{{ID: "t:M1", FeedID: f, Code: "1", RouteType: 1,
			Stations: []network.LineStation{{Seq: 1, StationID: "t:BXP"}, {Seq: 2, StationID: "t:NCG", Metres: 1449000}}}},
		Calendars: []network.Calendar{{ID: "t:daily", FeedID: f, Weekdays: [7]bool{true, true, true, true, true, true, true},
			Start: network.MustDate("2025-01-01"), End: network.MustDate("2025-12-31"),
			Exceptions: []network.CalendarException{{Date: network.MustDate("2025-01-29")}, {Date: network.MustDate("2026-01-03"), Added: true}}}},
		Services: []network.Service{{ID: "t:Z66", FeedID: f, Number: "Z66", CalendarID: "t:daily",
			Stops: []network.Stop{{Seq: 1, StationID: "t:BXP"}, {Seq: 2, StationID: "t:NCG", Arrive: 86400, Depart: 86400}},
			Cars:  []network.Car{{No: 1, CarType: "YW"}, {No: 2, CarType: "STORED"}}}}, // STORED: the store checks it
		Transfers: []network.Transfer{{FeedID: f, FromStationID: "t:BXP", ToStationID: "t:NCG", Type: 2}},
		CarTypes:  []network.CarType{network.StandardCarTypes()[0], network.StandardCarTypes()[2]},
		Fares: []network.Fare{
			{ServiceID: "t:Z66", FromStationID: "t:BXP", ToStationID: "t:NCG", SeatClass: network.HardSleeper, Berth: network.Upper, Fen: 40000},
			{ServiceID: "t:Z66", FromStationID: "t:BXP", ToStationID: "t:NCG", SeatClass: network.HardSleeper, Berth: network.Lower, Fen: 42000},
			{ServiceID: "t:Z66", FromStationID: "t:BXP", ToStationID: "t:NCG", SeatClass: network.SecondClass, Fen: 0},
		},
		FareBands: []network.FareBand{{FeedID: f, UpToMetres: 6000, Fen: 300}, {FeedID: f, UpToMetres: 0, Fen: 1000}},
		GTFSFares: []network.GTFSFare{{ID: "t:f1", FeedID: f, PriceMinor: 300, Currency: "CNY", Transfers: -1}},
	}
}

// wantFault checks err's class, reason and both messages exactly: the
// messages are part of the contract the API and CLI show.
func wantFault(t *testing.T, err error, reason, zh, en string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s: %s", reason, en)
	}
	fe := fault.As(err)
	if fe == nil || fe.Code != fault.Invalid || fe.Reason != reason || fe.ZH != zh || fe.EN != en {
		t.Fatalf("error = %#v\nwant  invalid %s %q %q", fe, reason, zh, en)
	}
}

func TestBundleValidate(t *testing.T) {
	if err := validBundle().Validate(); err != nil {
		t.Fatalf("valid bundle: %v", err)
	}
	metro := &network.Bundle{Feed: network.Feed{ID: "m", Mode: network.ModeMetro}}
	if err := metro.Validate(); err != nil {
		t.Fatalf("empty metro bundle: %v", err)
	}

	cases := []struct {
		name   string
		mutate func(b *network.Bundle)
		reason string
		zh, en string
	}{
		{"empty feed id", func(b *network.Bundle) { b.Feed.ID = " " },
			"invalid_bundle", "数据源缺少 ID", "the feed has no ID"},
		{"unknown mode", func(b *network.Bundle) { b.Feed.Mode = "bus" },
			"invalid_bundle", `数据源类型 "bus" 无效`, `feed mode "bus" is not rail or metro`},
		{"agency without id", func(b *network.Bundle) { b.Agencies[0].ID = "" },
			"invalid_bundle", "运营商缺少 ID", "a agency has no ID"},
		{"duplicate station", func(b *network.Bundle) { b.Stations = append(b.Stations, b.Stations[0]) },
			"invalid_bundle", "车站 t:NCG 重复", "duplicate station t:NCG"},
		{"station of another feed", func(b *network.Bundle) { b.Stations[0].FeedID = "other" },
			"invalid_bundle", "车站 t:NCG 属于其他数据源 other", "station t:NCG belongs to feed other, not t"},
		{"duplicate line", func(b *network.Bundle) { b.Lines = append(b.Lines, b.Lines[0]) },
			"invalid_bundle", "线路 t:M1 重复", "duplicate line t:M1"},
		{"line at unknown station", func(b *network.Bundle) { b.Lines[0].Stations[0].StationID = "t:nowhere" },
			"invalid_bundle", "线路 t:M1 经过不存在的车站 t:nowhere", "line t:M1 names unknown station t:nowhere"},
		{"line repeats sequence", func(b *network.Bundle) { b.Lines[0].Stations[1].Seq = 1 },
			"invalid_bundle", "线路 t:M1 的站序 1 重复", "line t:M1 repeats station sequence 1"},
		{"calendar of another feed", func(b *network.Bundle) { b.Calendars[0].FeedID = "u" },
			"invalid_bundle", "日历 t:daily 属于其他数据源 u", "calendar t:daily belongs to feed u, not t"},
		{"repeated exception date", func(b *network.Bundle) { b.Calendars[0].Exceptions[1].Date = b.Calendars[0].Exceptions[0].Date },
			"invalid_bundle", "日历 t:daily 的例外日期缺失或重复", "calendar t:daily has a missing or repeated exception date"},
		{"missing exception date", func(b *network.Bundle) { b.Calendars[0].Exceptions[0].Date = network.Date{} },
			"invalid_bundle", "日历 t:daily 的例外日期缺失或重复", "calendar t:daily has a missing or repeated exception date"},
		{"duplicate service", func(b *network.Bundle) { b.Services = append(b.Services, b.Services[0]) },
			"invalid_bundle", "车次 t:Z66 重复", "duplicate service t:Z66"},
		{"service without number", func(b *network.Bundle) { b.Services[0].Number = "  " },
			"invalid_bundle", "车次 t:Z66 缺少车次号", "service t:Z66 has no train number"},
		{"missing calendar", func(b *network.Bundle) { b.Services[0].CalendarID = "t:never" },
			"invalid_bundle", "车次 t:Z66 使用了不存在的日历 t:never", "service t:Z66 names unknown calendar t:never"},
		{"stop at unknown station", func(b *network.Bundle) { b.Services[0].Stops[1].StationID = "t:nowhere" },
			"invalid_bundle", "车次 t:Z66 停靠不存在的车站 t:nowhere", "service t:Z66 stops at unknown station t:nowhere"},
		{"repeated stop sequence", func(b *network.Bundle) { b.Services[0].Stops[1].Seq = 1 },
			"invalid_bundle", "车次 t:Z66 的站序 1 重复", "service t:Z66 repeats stop sequence 1"},
		{"repeated car", func(b *network.Bundle) { b.Services[0].Cars[1].No = 1 },
			"invalid_bundle", "车次 t:Z66 的车厢 1 重复或缺少类型", "service t:Z66 car 1 is repeated or has no car type"},
		{"car without type", func(b *network.Bundle) { b.Services[0].Cars[1].CarType = "" },
			"invalid_bundle", "车次 t:Z66 的车厢 2 重复或缺少类型", "service t:Z66 car 2 is repeated or has no car type"},
		{"transfer without station", func(b *network.Bundle) { b.Transfers[0].ToStationID = "" },
			"invalid_bundle", "第 1 条换乘缺少车站", "transfer 1 has no from or to station"},
		{"invalid car type", func(b *network.Bundle) { b.CarTypes[0].Seats = nil },
			"invalid_car_type", "车厢类型 YW 没有座位", "car type YW has no seats"},
		{"duplicate car type", func(b *network.Bundle) { b.CarTypes = append(b.CarTypes, b.CarTypes[0]) },
			"invalid_bundle", "车厢类型 YW 重复", "duplicate car type YW"},
		{"fare of unknown service", func(b *network.Bundle) { b.Fares[0].ServiceID = "t:X1" },
			"invalid_bundle", "票价使用了不存在的车次 t:X1", "a fare names unknown service t:X1"},
		{"invalid fare", func(b *network.Bundle) { b.Fares[0].Fen = -1 },
			"invalid_fare", "票价不能为负数", "a fare cannot be negative"},
		{"duplicate fare", func(b *network.Bundle) { b.Fares = append(b.Fares, b.Fares[0]) },
			"invalid_bundle", "车次 t:Z66 的票价重复", "service t:Z66 has a repeated fare"},
		{"fare repeated at another price", func(b *network.Bundle) { f := b.Fares[0]; f.Fen++; b.Fares = append(b.Fares, f) },
			"invalid_bundle", "车次 t:Z66 的票价重复", "service t:Z66 has a repeated fare"},
		{"duplicate fare band", func(b *network.Bundle) { b.FareBands = append(b.FareBands, b.FareBands[0]) },
			"invalid_bundle", "距离票价段 6000 米无效或重复", "fare band up to 6000 metres is negative or repeated"},
		{"negative fare band", func(b *network.Bundle) { b.FareBands[1].Fen = -1 },
			"invalid_bundle", "距离票价段 0 米无效或重复", "fare band up to 0 metres is negative or repeated"},
		{"negative band distance", func(b *network.Bundle) { b.FareBands[0].UpToMetres = -5 },
			"invalid_bundle", "距离票价段 -5 米无效或重复", "fare band up to -5 metres is negative or repeated"},
		{"duplicate GTFS fare", func(b *network.Bundle) { b.GTFSFares = append(b.GTFSFares, b.GTFSFares[0]) },
			"invalid_bundle", "GTFS 票价 t:f1 重复", "duplicate GTFS fare t:f1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := validBundle()
			c.mutate(b)
			wantFault(t, b.Validate(), c.reason, c.zh, c.en)
		})
	}

	t.Run("nil", func(t *testing.T) {
		var b *network.Bundle
		wantFault(t, b.Validate(), "invalid_bundle", "导入数据为空", "the bundle is empty")
	})
}

func TestFareValidate(t *testing.T) {
	ok := network.Fare{ServiceID: "t:G1", FromStationID: "t:NCG", ToStationID: "t:BXP", SeatClass: network.SecondClass, Fen: 0}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid fare: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(f *network.Fare)
		zh, en string
	}{
		{"no service", func(f *network.Fare) { f.ServiceID = "" }, "票价缺少车次或车站", "a fare needs a service and two stations"},
		{"no from station", func(f *network.Fare) { f.FromStationID = "" }, "票价缺少车次或车站", "a fare needs a service and two stations"},
		{"no to station", func(f *network.Fare) { f.ToStationID = "" }, "票价缺少车次或车站", "a fare needs a service and two stations"},
		{"bad class", func(f *network.Fare) { f.SeatClass = "deluxe" }, `席别 "deluxe" 无效`, `seat class "deluxe" is not valid`},
		{"no class", func(f *network.Fare) { f.SeatClass = "" }, `席别 "" 无效`, `seat class "" is not valid`},
		{"bad berth", func(f *network.Fare) { f.Berth = "roof" }, `铺位 "roof" 无效`, `berth "roof" is not valid`},
		{"negative", func(f *network.Fare) { f.Fen = -1 }, "票价不能为负数", "a fare cannot be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := ok
			c.mutate(&f)
			wantFault(t, f.Validate(), "invalid_fare", c.zh, c.en)
		})
	}
}

func TestCarTypeValidate(t *testing.T) {
	for _, ct := range network.StandardCarTypes() {
		if err := ct.Validate(); err != nil {
			t.Errorf("standard car type %s: %v", ct.Code, err)
		}
	}
	cases := []struct {
		name   string
		ct     network.CarType
		zh, en string
	}{
		{"no code", network.CarType{Code: " ", SeatClass: network.SecondClass, Seats: []network.Seat{{Label: "01A"}}},
			"车厢类型缺少代码", "a car type needs a code"},
		{"bad class", network.CarType{Code: "X", SeatClass: "standing", Seats: []network.Seat{{Label: "01A"}}},
			`车厢类型 X 的席别 "standing" 无效`, `car type X has invalid seat class "standing"`},
		{"no seats", network.CarType{Code: "X", SeatClass: network.SecondClass},
			"车厢类型 X 没有座位", "car type X has no seats"},
		{"empty label", network.CarType{Code: "X", SeatClass: network.SecondClass, Seats: []network.Seat{{Label: " "}}},
			`车厢类型 X 的座位号 " " 为空或重复`, `car type X has an empty or repeated seat label " "`},
		{"duplicate label", network.CarType{Code: "X", SeatClass: network.SecondClass, Seats: []network.Seat{{Label: "01A"}, {Label: "01A"}}},
			`车厢类型 X 的座位号 "01A" 为空或重复`, `car type X has an empty or repeated seat label "01A"`},
		{"bad berth", network.CarType{Code: "X", SeatClass: network.HardSleeper, Seats: []network.Seat{{Label: "01A", Berth: "roof"}}},
			`车厢类型 X 的铺位 "roof" 无效`, `car type X has invalid berth "roof"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantFault(t, c.ct.Validate(), "invalid_car_type", c.zh, c.en) })
	}
}

func TestBerthValid(t *testing.T) {
	for b, want := range map[network.Berth]bool{
		network.NoBerth: true, network.Upper: true, network.Middle: true, network.Lower: true,
		"roof": false, "Lower": false, " ": false,
	} {
		if got := b.Valid(); got != want {
			t.Errorf("Berth(%q).Valid() = %v, want %v", b, got, want)
		}
	}
	for _, c := range []network.SeatClass{network.HardSleeper, network.SoftSleeper, network.SecondClass, network.FirstClass, network.Business} {
		for _, b := range c.Berths() {
			if !b.Valid() {
				t.Errorf("%s has invalid berth %q", c, b)
			}
		}
	}
}

func TestSearchPinyin(t *testing.T) {
	cases := []struct{ in, want string }{
		{"nan chang", "nanchang"},
		{"Nan Chang", "nanchang"},
		{"xi'an", "xian"},
		{"wu-lu-mu-qi", "wulumuqi"},
		{"bei  jing xi", "beijingxi"},
		{"", ""},
		{"NANCH", "nanch"},
	}
	for _, c := range cases {
		if got := network.SearchPinyin(c.in); got != c.want {
			t.Errorf("SearchPinyin(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
