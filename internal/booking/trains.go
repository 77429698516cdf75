package booking

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/seats"
)

// serviceInfo is what booking needs of a train service, read once and cached.
type serviceInfo struct {
	svc      network.Service
	calendar network.Calendar
	loc      *time.Location
	seats    []seats.SeatInfo
	rows     []SeatRow // all seats free, in seat order
}

// snapshot is an immutable published state of a train date's inventory:
// queries read it without locks; the committer replaces it after commits.
type snapshot struct {
	version int64
	train   *seats.Train
	kinds   []seats.Kind // the train's kinds, computed once for the hot path
	checked time.Time    // when the version was last compared with the database
	fromDB  bool         // false: nothing stored yet, all seats free
}

func newSnapshot(version int64, tr *seats.Train, checked time.Time, fromDB bool) *snapshot {
	return &snapshot{version: version, train: tr, kinds: tr.Kinds(), checked: checked, fromDB: fromDB}
}

// trainCache holds the latest snapshot of one train date.
type trainCache struct {
	snap atomic.Pointer[snapshot]
	mu   sync.Mutex // serialises reloads outside the committer
}

// trains keeps per-process caches of services and train-date snapshots.
type trains struct {
	net      network.Store
	store    Store
	refresh  time.Duration // how stale a snapshot may be before its version is re-checked
	now      func() time.Time
	mu       sync.Mutex
	services map[string]*serviceInfo
	numbers  map[string]numberEntry // upper-case train number → service, for a short time
	dates    sync.Map               // TrainKey → *trainCache; read on every query without a lock
}

// numberEntry remembers which service a train number named, briefly, so a
// booking does not look the number up in the network each time.
type numberEntry struct {
	serviceID string
	at        time.Time
}

func (t *trains) numberID(number string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.numbers[strings.ToUpper(number)]
	if !ok || t.now().Sub(e.at) >= 10*time.Second {
		return "", false
	}
	return e.serviceID, true
}

func (t *trains) rememberNumber(number, serviceID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.numbers == nil || len(t.numbers) >= 10000 {
		t.numbers = map[string]numberEntry{}
	}
	t.numbers[strings.ToUpper(number)] = numberEntry{serviceID: serviceID, at: t.now()}
}

func (t *trains) service(ctx context.Context, id string) (*serviceInfo, error) {
	t.mu.Lock()
	si := t.services[id]
	t.mu.Unlock()
	if si != nil {
		return si, nil
	}
	svc, err := t.net.Service(ctx, id)
	if err != nil {
		return nil, err
	}
	cal, err := t.net.Calendar(ctx, svc.CalendarID)
	if err != nil {
		return nil, err
	}
	loc, err := (&network.Catalog{Store: t.net}).Location(ctx, svc.FeedID)
	if err != nil {
		return nil, err
	}
	var types []network.CarType
	for _, car := range svc.Cars {
		if slices.ContainsFunc(types, func(ct network.CarType) bool { return ct.Code == car.CarType }) {
			continue
		}
		ct, err := t.net.CarType(ctx, car.CarType)
		if err != nil {
			return nil, err
		}
		types = append(types, ct)
	}
	infos, err := seats.SeatsFromCars(svc.Cars, types)
	if err != nil {
		return nil, fault.Wrap(err, "seats of "+svc.ID)
	}
	si = &serviceInfo{svc: svc, calendar: cal, loc: loc, seats: infos}
	for i, info := range infos {
		si.rows = append(si.rows, SeatRow{SeatNo: i, Car: info.Car, Label: info.Label, Kind: info.Kind})
	}
	if len(svc.Stops) < 2 || len(svc.Stops) > 64 {
		return nil, fault.Newf(fault.Invalid, "train_not_bookable", "车次 %s 无法售票：经停站数须为 2–64", "train %s cannot be booked: it needs 2–64 stops", svc.Number)
	}
	t.mu.Lock()
	t.services[id] = si
	t.mu.Unlock()
	return si, nil
}

func (t *trains) cache(k TrainKey) *trainCache {
	if c, ok := t.dates.Load(k); ok {
		return c.(*trainCache)
	}
	c, _ := t.dates.LoadOrStore(k, &trainCache{})
	return c.(*trainCache)
}

// current returns a snapshot no older than the refresh interval: the cached
// one if the database version still matches, else one reloaded.
func (t *trains) current(ctx context.Context, k TrainKey) (*snapshot, error) {
	c := t.cache(k)
	s := c.snap.Load()
	now := t.now()
	if s != nil && now.Sub(s.checked) < t.refresh {
		return s, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s = c.snap.Load(); s != nil && now.Sub(s.checked) < t.refresh {
		return s, nil
	}
	v, err := t.store.TrainVersion(ctx, k)
	if err != nil {
		return nil, err
	}
	if s != nil && s.version == v {
		fresh := *s
		fresh.checked = now
		c.snap.Store(&fresh)
		return &fresh, nil
	}
	si, err := t.service(ctx, k.ServiceID)
	if err != nil {
		return nil, err
	}
	var ns *snapshot
	if v == 0 {
		tr, err := seats.NewTrain(len(si.svc.Stops), si.seats)
		if err != nil {
			return nil, fault.Wrap(err, "build inventory")
		}
		ns = newSnapshot(0, tr, now, false)
	} else {
		rows, version, err := t.store.Seats(ctx, k)
		if err != nil {
			return nil, err
		}
		tr, err := trainFromRows(len(si.svc.Stops), si, rows)
		if err != nil {
			return nil, err
		}
		ns = newSnapshot(version, tr, now, true)
	}
	t.publish(k, ns)
	return c.snap.Load(), nil
}

// publish installs a snapshot unless a newer one is already there.
func (t *trains) publish(k TrainKey, s *snapshot) {
	c := t.cache(k)
	for {
		old := c.snap.Load()
		if old != nil && old.version > s.version {
			return
		}
		if c.snap.CompareAndSwap(old, s) {
			return
		}
	}
}

// forget drops a train date's snapshot so the next use reloads it.
func (t *trains) forget(k TrainKey) {
	t.cache(k).snap.Store(nil)
}

// trainFromRows rebuilds an inventory from stored seat rows.
func trainFromRows(stops int, si *serviceInfo, rows []SeatRow) (*seats.Train, error) {
	if len(rows) != len(si.seats) {
		return nil, fault.Wrap(fmt.Errorf("stored inventory has %d seats, the layout %d", len(rows), len(si.seats)), "load inventory")
	}
	tr, err := seats.NewTrain(stops, si.seats)
	if err != nil {
		return nil, fault.Wrap(err, "build inventory")
	}
	for _, r := range rows {
		if r.Sold != 0 {
			if err := tr.Mark(seats.SeatID(r.SeatNo), r.Sold); err != nil {
				return nil, fault.Wrap(err, "load inventory")
			}
		}
	}
	return tr, nil
}
