package booking

import (
	"context"
	"fmt"
	"slices"

	"piao/internal/fault"
	"piao/internal/seats"
)

// CheckReport is the result of recomputing one train date's inventory.
type CheckReport struct {
	Train    TrainKey `json:"train"`
	Seats    int      `json:"seats"`
	Tickets  int      `json:"active_tickets"`
	Problems []string `json:"problems,omitempty"`
}

// Check recomputes a train date's inventory from its held and paid tickets
// and compares: every seat's sold legs must equal the union of its tickets'
// legs with no two tickets sharing a leg, and the stored availability
// counters must equal a recount from the seats.
func (s *Service) Check(ctx context.Context, k TrainKey) (CheckReport, error) {
	rep := CheckReport{Train: k}
	si, err := s.trains.service(ctx, k.ServiceID)
	if err != nil {
		return rep, err
	}
	inv, err := s.store.Inventory(ctx, k)
	if err != nil {
		return rep, err
	}
	rows, tickets, counts := inv.Seats, inv.Tickets, inv.Counts
	if inv.Version == 0 {
		return rep, nil // nothing sold on this train date yet: no inventory to check
	}
	rep.Seats, rep.Tickets = len(rows), len(tickets)
	want := make([]seats.Legs, len(rows))
	for _, t := range tickets {
		if t.SeatNo < 0 || t.SeatNo >= len(rows) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("ticket %d names seat %d outside the train", t.ID, t.SeatNo))
			continue
		}
		if want[t.SeatNo]&t.Legs() != 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("seat %d %s sold twice on legs %b (ticket %d)", rows[t.SeatNo].Car, rows[t.SeatNo].Label, want[t.SeatNo]&t.Legs(), t.ID))
		}
		want[t.SeatNo] |= t.Legs()
	}
	for i, r := range rows {
		if r.Sold != want[i] {
			rep.Problems = append(rep.Problems, fmt.Sprintf("car %d seat %s: stored legs %b, tickets say %b", r.Car, r.Label, r.Sold, want[i]))
		}
	}
	tr, err := trainFromRows(len(si.svc.Stops), si, rows)
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep, nil
	}
	for _, kind := range tr.Kinds() {
		if !slices.Equal(counts[kind], tr.Counts(kind)) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("availability of %s %s: stored counters differ from a recount of the seats", kind.Class, kind.Berth))
		}
	}
	if err := tr.Check(); err != nil {
		rep.Problems = append(rep.Problems, err.Error())
	}
	return rep, nil
}

// CheckAll checks every train date with an inventory.
func (s *Service) CheckAll(ctx context.Context) ([]CheckReport, error) {
	keys, err := s.store.TrainDates(ctx)
	if err != nil {
		return nil, err
	}
	var out []CheckReport
	for _, k := range keys {
		r, err := s.Check(ctx, k)
		if err != nil {
			return nil, fault.Wrap(err, "check "+k.String())
		}
		out = append(out, r)
	}
	return out, nil
}
