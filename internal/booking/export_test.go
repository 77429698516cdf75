package booking

import (
	"context"

	"piao/internal/fault"
	"piao/internal/seats"
)

// RefusedOpInBatchForTest commits one batch of two ops on train date k: the
// first only locks it; the second sells seat over the first leg, writes
// the setting name and is then refused. It returns the second op's error.
// It runs the committer's commit directly, so the two are sure to share a
// transaction and a working copy of the train date.
func RefusedOpInBatchForTest(s *Service, k TrainKey, seat int, name string) error {
	ctx := context.Background()
	lock := &op{ctx: ctx, done: make(chan struct{}), fn: func(b *batch) error {
		_, err := b.train(k)
		return err
	}}
	refused := &op{ctx: ctx, done: make(chan struct{}), fn: func(b *batch) error {
		w, err := b.train(k)
		if err != nil {
			return err
		}
		if err := w.train.Mark(seats.SeatID(seat), seats.Span(0, 1)); err != nil {
			return err
		}
		w.dirty = true
		if err := b.tx.SetSetting(name, `"written by a refused op"`); err != nil {
			return err
		}
		return fault.New(fault.Conflict, "test_refusal", "测试拒绝", "refused by the test")
	}}
	s.commit(ctx, []*op{lock, refused})
	return refused.err
}
