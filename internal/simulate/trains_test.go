package simulate

import (
	"testing"

	"piao/internal/demo"
	"piao/internal/network"
)

// The simulation's picture of the demo trains matches internal/demo:
// service, end stations, departure and seat classes.
func TestTrainsMatchDemo(t *testing.T) {
	b := demo.Rail(network.MustDate("2026-03-02"), 1)
	for _, tr := range demoTrains {
		var svc *network.Service
		for i := range b.Services {
			if b.Services[i].ID == tr.serviceID() {
				svc = &b.Services[i]
			}
		}
		if svc == nil || svc.Number != tr.Number {
			t.Fatalf("demo has no service %s", tr.serviceID())
		}
		first, last := svc.Stops[0], svc.Stops[len(svc.Stops)-1]
		if first.StationID != "cr:"+tr.From || last.StationID != "cr:"+tr.To || int(tr.Depart.Seconds()) != first.Depart {
			t.Errorf("%s: demo runs %s %d → %s, the simulation thinks %s %s → %s", tr.Number, first.StationID, first.Depart, last.StationID, tr.From, tr.Depart, tr.To)
		}
		classes := map[network.SeatClass]bool{}
		for _, f := range b.Fares {
			if f.ServiceID == svc.ID && f.FromStationID == first.StationID && f.ToStationID == last.StationID {
				classes[f.SeatClass] = true
			}
		}
		for _, c := range tr.Classes {
			if !classes[c] {
				t.Errorf("%s carries no %s", tr.Number, c)
			}
		}
		if len(tr.Classes) != len(tr.Shares) {
			t.Errorf("%s: %d classes, %d shares", tr.Number, len(tr.Classes), len(tr.Shares))
		}
	}
}
