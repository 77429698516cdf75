package booking

import (
	"context"
	"log/slog"
	"time"

	"piao/internal/audit"
	"piao/internal/fees"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/payment"
)

// Config tunes the booking service.
type Config struct {
	// Hold is how long seats stay held for payment (default 30 minutes).
	Hold time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxBatch caps how many changes one transaction commits (default 256).
	MaxBatch int
	// Refresh is how old a cached inventory may get before its version is
	// compared with the database again. Zero means 1 s, right when several
	// processes share a database; one process alone may use a long one.
	Refresh time.Duration
	// SweepEvery is how often expired holds are looked for (default 1 s).
	SweepEvery time.Duration
	// Gateway takes payments; nil disables payment.
	Gateway payment.Gateway
	// NotifyURL receives the gateway's notifications; ReturnURL is where the
	// payer's browser goes after paying (the order ID is appended).
	NotifyURL, ReturnURL string
	// WaitlistReturnURL is where the payer goes after prepaying a waitlist
	// entry (the entry ID is appended).
	WaitlistReturnURL string
	// Governance applies the cancel limits and the lists (SPEC G1–G3);
	// nil turns them off: no limits, no daily counts.
	Governance Governor
	// Audit records the changes of fee tables and the booking policy (nil:
	// no trail).
	Audit *audit.Log
}

// Governor is what booking asks of governance: the rules in force and what
// the lists do to the subjects of a booking (its account and passengers).
type Governor interface {
	Screen(ctx context.Context, subjects []string) (governance.Rules, governance.Verdict, error)
}

// Service is the booking core of one process.
type Service struct {
	store   Store
	net     network.Store
	cfg     Config
	trains  *trains
	plans   *planCache
	ops     chan *op
	stopped chan struct{}
	// refundKick wakes the waitlist refund sender.
	refundKick chan struct{}
	policy     policyCache
}

// New returns a booking service; call Run to start committing.
func New(store Store, net network.Store, cfg Config) *Service {
	if cfg.Hold <= 0 {
		cfg.Hold = 30 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Second
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = time.Second
	}
	return &Service{
		store: store, net: net, cfg: cfg,
		trains:     &trains{net: net, store: store, refresh: cfg.Refresh, now: cfg.Now, services: map[string]*serviceInfo{}},
		plans:      &planCache{ttl: 10 * time.Second, now: cfg.Now, entries: map[string]*plannedSearch{}},
		ops:        make(chan *op),
		stopped:    make(chan struct{}),
		refundKick: make(chan struct{}, 1),
	}
}

// Run commits changes and releases expired holds until ctx ends. Holds that
// expired while no process ran are released at once.
func (s *Service) Run(ctx context.Context) {
	defer close(s.stopped)
	go s.sweep(ctx)
	go s.refundLoop(ctx)
	s.run(ctx)
}

// sweep releases expired holds, durably: it reads them from the database,
// so holds that expired while the process was down go too.
func (s *Service) sweep(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		if _, err := s.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			slog.Error("expiring holds", "err", err.Error())
		}
		if _, err := s.ExpireWaitlist(ctx); err != nil && ctx.Err() == nil {
			slog.Error("expiring waitlist entries", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refundTable returns the editable refund fee table.
func (s *Service) refundTable(ctx context.Context) (fees.Table, error) {
	return s.table(ctx, "refund_fees", fees.DefaultRefund())
}

// changeTable returns the editable change fee table.
func (s *Service) changeTable(ctx context.Context) (fees.Table, error) {
	return s.table(ctx, "change_fees", fees.DefaultChange())
}
