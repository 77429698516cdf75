package identity

import (
	"context"
	"strconv"
	"time"

	"golang.org/x/sync/semaphore"

	"piao/internal/fault"
)

// beijing is the zone a lock's end is shown in (business time).
var beijing = time.FixedZone("CST", 8*3600)

// errLocked is the refusal of a login to an account locked until until.
func errLocked(until time.Time) error {
	at := until.In(beijing).Format("2006-01-02 15:04:05")
	return fault.Newf(fault.LimitReached, "account_locked",
		"登录失败次数过多，账号已锁定至 %s（北京时间）；请届时再试，或联系运营人员解锁",
		"too many failed logins: the account is locked until %s (Beijing time); try again then, or ask an operator to unlock it",
		at).WithRetryAt(until)
}

// loginFailed counts a wrong password for account id at now and returns
// the refusal to give: wrong credentials, or the lock the failure led to.
func (s *Service) loginFailed(ctx context.Context, id int64, now time.Time) error {
	l := s.Lockout
	if l.After <= 0 {
		return errBadLogin
	}
	forgetBefore := time.Time{}
	if l.Forget > 0 {
		forgetBefore = now.Add(-l.Forget)
	}
	n, err := s.Store.AddLoginFailure(ctx, id, now, forgetBefore)
	if err != nil {
		return err
	}
	if n < l.After {
		return errBadLogin
	}
	until := now.Add(lockFor(l.First, l.Max, n-l.After))
	if err := s.Store.LockLogin(ctx, id, until); err != nil {
		return err
	}
	return errLocked(until)
}

// lockFor is the lock after the extra-th failure beyond the threshold:
// first, doubled extra times, at most max (when max is set).
func lockFor(first, max time.Duration, extra int) time.Duration {
	d := first
	for range extra {
		if max > 0 && d >= max {
			break
		}
		d *= 2
	}
	if max > 0 && d > max {
		d = max
	}
	return d
}

// LoginFailures returns an account's run of failed logins and its lock.
func (s *Service) LoginFailures(ctx context.Context, id int64) (LoginFailures, error) {
	if _, err := s.Store.AccountByID(ctx, id); err != nil {
		return LoginFailures{}, err
	}
	return s.Store.LoginFailures(ctx, id)
}

// Unlock lifts an account's login lock and forgets its failed logins, for
// an operator; the audit trail records it (action account.unlock) with
// the run that was cleared and reason.
func (s *Service) Unlock(ctx context.Context, id int64, reason string) (LoginFailures, error) {
	before, err := s.LoginFailures(ctx, id)
	if err != nil {
		return LoginFailures{}, err
	}
	if err := s.Store.ClearLoginFailures(ctx, id); err != nil {
		return LoginFailures{}, err
	}
	if err := s.Audit.Record(ctx, "account.unlock", "account:"+strconv.FormatInt(id, 10), before, LoginFailures{}, reason); err != nil {
		return LoginFailures{}, err
	}
	return before, nil
}

// hashSlots caps the password hashes (argon2id, Params.Memory each) that
// run at once, so a storm of logins waits or is refused instead of
// allocating memory without bound.
type hashSlots struct {
	sem  *semaphore.Weighted
	wait time.Duration
}

// SetHashSlots lets n password hashes run at once; a login waits at most
// wait for a slot before it is refused (503, server_busy). n <= 0 lifts
// the cap.
func (s *Service) SetHashSlots(n int, wait time.Duration) {
	if n <= 0 {
		s.hashes = nil
		return
	}
	s.hashes = &hashSlots{sem: semaphore.NewWeighted(int64(n)), wait: wait}
}

// errBusy refuses a login that found no free hash slot in time.
var errBusy = fault.New(fault.Unavailable, "server_busy", "登录请求过多，请稍后再试", "too many logins at once; try again shortly")

// run runs fn in a hash slot. A caller that may give up (a login) waits
// at most h.wait, then gets errBusy; one that may not (an operator
// creating an account) waits as long as ctx lets it.
func (h *hashSlots) run(ctx context.Context, mayGiveUp bool, fn func()) error {
	if h == nil {
		fn()
		return nil
	}
	wctx := ctx
	if mayGiveUp {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, h.wait)
		defer cancel()
	}
	if err := h.sem.Acquire(wctx, 1); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e := *errBusy
		return e.WithRetryAt(time.Now().Add(time.Second))
	}
	defer h.sem.Release(1)
	fn()
	return nil
}

// checkPassword checks password against encoded in a hash slot.
func (s *Service) checkPassword(ctx context.Context, encoded, password string) (bool, error) {
	var ok bool
	err := s.hashes.run(ctx, true, func() { ok = CheckPassword(encoded, password) })
	return ok, err
}
