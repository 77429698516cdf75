package simulate

import "time"

// timeline is a min-heap of values by time, then by the order they were
// pushed, so values at equal times come out in a deterministic order.
type timeline[T any] struct {
	items []timed[T]
	seq   uint64
}

type timed[T any] struct {
	at  time.Time
	seq uint64
	v   T
}

// Len is how many values wait.
func (q *timeline[T]) Len() int { return len(q.items) }

// Next is the earliest time waiting; call it only when Len > 0.
func (q *timeline[T]) Next() time.Time { return q.items[0].at }

func (q *timeline[T]) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.seq < b.seq
}

// push adds v at t.
func (q *timeline[T]) push(t time.Time, v T) {
	q.seq++
	q.items = append(q.items, timed[T]{at: t, seq: q.seq, v: v})
	for i := len(q.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

// pop removes the earliest value; call it only when Len > 0.
func (q *timeline[T]) pop() (time.Time, T) {
	top := q.items[0]
	n := len(q.items) - 1
	q.items[0] = q.items[n]
	q.items[n] = timed[T]{} // let the value be collected
	q.items = q.items[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.less(l, m) {
			m = l
		}
		if r < n && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top.at, top.v
}
