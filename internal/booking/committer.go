package booking

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"

	"piao/internal/fault"
	"piao/internal/seats"
)

// op is one state change waiting for the committer. Its result, if any,
// is kept by fn itself (see submit), so the queue needs no type for it.
type op struct {
	// ctx is the request's context without its cancellation, for the op's
	// own reads inside the batch (see queue).
	ctx   context.Context
	fn    func(b *batch) error
	done  chan struct{}
	err   error
	tries int // runs repeated after transaction conflicts
}

// batch is one transaction of the committer, holding working copies of the
// train dates its ops touched.
type batch struct {
	s  *Service
	tx Tx
	// ctx is the context of the op running now, for reads outside the
	// transaction (service definitions, policy); the transaction itself
	// runs under the committer's context.
	ctx   context.Context
	work  map[TrainKey]*working
	order []TrainKey
	// settled holds waitlist entries served in this batch; refunds says
	// some are owed money back.
	settled map[int64]bool
	refunds bool
	// mark is what the running op changed in memory, undone with its
	// writes when it fails (see commit).
	mark opMark
}

// opMark records the batch's memory as it was before the running op
// touched it: the seats of each train date the op locked, and the
// waitlist bookkeeping. The database side of an op is undone by
// Tx.RollbackOp; this undoes the working copies, so a refused op leaves
// neither rows nor seats behind and the batch goes on with the others.
type opMark struct {
	trains  map[TrainKey]trainMark
	settled map[int64]bool
	refunds bool
}

// trainMark is a train date's working copy as an op found it.
type trainMark struct {
	added        bool         // the op locked it first: undoing drops it
	sold         []seats.Legs // each seat's sold legs
	dirty, freed bool
}

// working is a train date being changed in a batch: a private copy of the
// inventory, the state it started from, and the version it will commit as.
type working struct {
	key     TrainKey
	si      *serviceInfo
	train   *seats.Train
	base    *seats.Train // as loaded, for finding changed seats
	version int64
	dirty   bool
	freed   bool // seats were released: the waitlist gets them first
}

// train locks a train date and returns its working copy, created or
// reloaded from the database when the cached snapshot is stale.
func (b *batch) train(k TrainKey) (*working, error) {
	if w := b.work[k]; w != nil {
		b.markTrain(k, w)
		return w, nil
	}
	if b.mark.trains != nil {
		b.mark.trains[k] = trainMark{added: true}
	}
	si, err := b.s.trains.service(b.ctx, k.ServiceID)
	if err != nil {
		return nil, err
	}
	st, err := b.tx.LockTrain(k)
	if err != nil {
		return nil, err
	}
	var base *seats.Train
	switch {
	case !st.Exists:
		base, err = seats.NewTrain(len(si.svc.Stops), si.seats)
		if err != nil {
			return nil, fault.Wrap(err, "build inventory")
		}
		if err := b.tx.CreateTrain(k, len(si.svc.Stops), si.rows, countsOf(base)); err != nil {
			return nil, err
		}
		st.Version = 1
	default:
		snap := b.s.trains.cache(k).snap.Load()
		if snap != nil && snap.fromDB && snap.version == st.Version {
			base = snap.train
		} else {
			rows, err := b.tx.LoadSeats(k)
			if err != nil {
				return nil, err
			}
			if base, err = trainFromRows(len(si.svc.Stops), si, rows); err != nil {
				return nil, err
			}
		}
	}
	w := &working{key: k, si: si, train: base.Clone(), base: base, version: st.Version}
	b.work[k] = w
	b.order = append(b.order, k)
	return w, nil
}

// markTrain records a train date's working copy before the running op
// first changes it.
func (b *batch) markTrain(k TrainKey, w *working) {
	if b.mark.trains == nil {
		return
	}
	if _, ok := b.mark.trains[k]; ok {
		return
	}
	sold := make([]seats.Legs, w.train.Len())
	for i := range sold {
		sold[i] = w.train.Sold(seats.SeatID(i))
	}
	b.mark.trains[k] = trainMark{sold: sold, dirty: w.dirty, freed: w.freed}
}

// beginOp starts an op: a savepoint in the transaction and a fresh mark.
func (b *batch) beginOp() error {
	if err := b.tx.BeginOp(); err != nil {
		return err
	}
	if b.mark.trains == nil {
		b.mark.trains = map[TrainKey]trainMark{}
	}
	clear(b.mark.trains)
	b.mark.settled, b.mark.refunds = maps.Clone(b.settled), b.refunds
	return nil
}

// rollbackOp undoes the running op: its writes, its seats and its
// waitlist bookkeeping.
func (b *batch) rollbackOp() error {
	if err := b.tx.RollbackOp(); err != nil {
		return err
	}
	for k, m := range b.mark.trains {
		if m.added { // its rows (even its creation) are undone: lock it again if needed
			delete(b.work, k)
			b.order = slices.DeleteFunc(b.order, func(x TrainKey) bool { return x == k })
			continue
		}
		w := b.work[k]
		for i, was := range m.sold {
			id := seats.SeatID(i)
			now := w.train.Sold(id)
			if extra := now &^ was; extra != 0 {
				if err := w.train.Release(id, extra); err != nil {
					return fault.Wrap(err, "undo op: release seat")
				}
			}
			if missing := was &^ now; missing != 0 {
				if err := w.train.Mark(id, missing); err != nil {
					return fault.Wrap(err, "undo op: mark seat")
				}
			}
		}
		w.dirty, w.freed = m.dirty, m.freed
	}
	clear(b.mark.trains)
	b.settled, b.refunds = b.mark.settled, b.mark.refunds
	return nil
}

// flush writes the changed seats and counters of every dirty train date.
func (b *batch) flush() error {
	for _, k := range b.order {
		w := b.work[k]
		if !w.dirty {
			continue
		}
		var changed []SeatRow
		for i := range w.si.rows {
			id := seats.SeatID(i)
			if sold := w.train.Sold(id); sold != w.base.Sold(id) {
				r := w.si.rows[i]
				r.Sold = sold
				changed = append(changed, r)
			}
		}
		w.version++
		if err := b.tx.SaveSeats(k, changed, countsOf(w.train), w.version); err != nil {
			return err
		}
	}
	return nil
}

func countsOf(t *seats.Train) map[seats.Kind][]int32 {
	out := map[seats.Kind][]int32{}
	for _, k := range t.Kinds() {
		out[k] = t.Counts(k)
	}
	return out
}

// run is the committer loop: it takes waiting ops in groups and commits each
// group in one transaction.
func (s *Service) run(ctx context.Context) {
	for {
		var first *op
		select {
		case <-ctx.Done():
			return
		case first = <-s.ops:
		}
		group := []*op{first}
	fill:
		for len(group) < s.cfg.MaxBatch {
			select {
			case o := <-s.ops:
				group = append(group, o)
			default:
				break fill
			}
		}
		s.commit(ctx, group)
	}
}

// commit runs a group in one transaction. If the transaction fails as a
// whole, each op is retried alone so one bad op cannot fail the others.
//
// The transaction runs under ctx, the committer's own context, not any
// caller's: it is shared by the ops of several requests, so one caller
// hanging up must not roll back the others' changes. It ends when the
// service stops.
func (s *Service) commit(ctx context.Context, group []*op) {
	var b *batch
	err := s.store.Update(ctx, func(tx Tx) error {
		b = &batch{s: s, tx: tx, work: map[TrainKey]*working{}}
		for _, o := range group {
			b.ctx = o.ctx
			if err := b.beginOp(); err != nil {
				return err
			}
			o.err = o.fn(b)
			if o.err == nil {
				o.err = b.serveWaitlist()
			}
			switch {
			case o.err == nil:
			case fault.CodeOf(o.err) == fault.Internal || errors.Is(o.err, ErrTxConflict):
				return o.err // the whole transaction is in doubt: retried below
			default:
				// A refusal: whatever the op wrote before refusing is
				// undone, so it never commits half an op.
				if err := b.rollbackOp(); err != nil {
					return err
				}
			}
		}
		return b.flush()
	})
	if err != nil {
		if b != nil {
			for _, k := range b.order {
				s.trains.forget(k)
			}
		}
		if len(group) > 1 {
			for _, o := range group {
				s.commit(ctx, []*op{o})
			}
			return
		}
		o := group[0]
		if o.err != nil && fault.CodeOf(o.err) != fault.Internal {
			// The op was refused (and undone); whatever failed after it,
			// nothing of it was written: the refusal is the answer.
			err = o.err
		}
		if errors.Is(err, ErrTxConflict) && o.tries < 5 {
			o.tries++ // lost a race with another process: run it again
			s.commit(ctx, group)
			return
		}
		o.err = err
		if !errors.Is(err, context.Canceled) {
			slog.Error("booking commit failed", "err", err.Error())
		}
		close(o.done)
		return
	}
	for _, k := range b.order {
		w := b.work[k]
		if w.dirty {
			s.trains.publish(k, newSnapshot(w.version, w.train, s.cfg.Now(), true))
		}
	}
	for _, o := range group {
		close(o.done)
	}
	if b.refunds {
		s.kickRefunds()
	}
}

// serveWaitlist gives the seats an op freed to waiting entries before the
// next op of the batch can book them.
func (b *batch) serveWaitlist() error {
	for _, k := range b.order {
		if w := b.work[k]; w.freed {
			if err := b.fulfil(w); err != nil {
				return err
			}
		}
	}
	return nil
}

// submit runs fn in the committer, in a transaction shared with other
// requests' ops, and waits for its outcome. fn may run more than once (a
// failed batch is retried op by op); the result of its last run is returned.
func submit[T any](ctx context.Context, s *Service, fn func(b *batch) (T, error)) (T, error) {
	var res T
	err := s.queue(ctx, func(b *batch) error {
		var err error
		res, err = fn(b)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return res, nil // written before the op was closed as done: no race
}

// queue queues an op with no result and waits for its outcome.
//
// The op's reads inside the batch get ctx's values (request ID and the
// like) but not its cancellation: once queued, an op is decided whether or
// not its caller is still waiting, so its reads must not be cut short by
// the caller hanging up half-way through the batch. A caller that goes
// away before the op is queued cancels it here.
func (s *Service) queue(ctx context.Context, fn func(b *batch) error) error {
	o := &op{ctx: context.WithoutCancel(ctx), fn: fn, done: make(chan struct{})}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		return fault.New(fault.Unavailable, "cancelled", "请求已取消", "the request was cancelled")
	case <-s.stopped:
		return fault.New(fault.Unavailable, "shutting_down", "服务正在停止", "the service is shutting down")
	}
	// Once queued the op will be decided; wait for it even if the caller
	// went away, so an acknowledged change is never half-known.
	<-o.done
	return o.err
}
