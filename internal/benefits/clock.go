package benefits

import "time"

// WithClock returns a service over the same store and configuration
// whose clock is now, for replaying what happened at other times (the
// demo's merchant day, hours before it is seeded). Issues on it are not
// batched: Run is not running on it.
func (s *Service) WithClock(now func() time.Time) *Service {
	cfg := s.cfg
	cfg.Now = now
	return NewService(s.store, cfg)
}
