package booking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"

	"piao/internal/fault"
	"piao/internal/fees"
)

// table reads a fee table setting, or returns the default when unset.
func (s *Service) table(ctx context.Context, name string, def fees.Table) (fees.Table, error) {
	v, err := s.store.Setting(ctx, name)
	if err != nil || v == "" {
		return def, err
	}
	var t fees.Table
	if err := json.Unmarshal([]byte(v), &t); err != nil {
		return def, fault.Wrap(err, "read setting "+name)
	}
	return t, nil
}

// RefundFees returns the refund fee table in force.
func (s *Service) RefundFees(ctx context.Context) (fees.Table, error) { return s.refundTable(ctx) }

// ChangeFees returns the change fee table in force.
func (s *Service) ChangeFees(ctx context.Context) (fees.Table, error) { return s.changeTable(ctx) }

// SetRefundFees replaces the refund fee table after validating it; reason
// is why, for the audit trail.
func (s *Service) SetRefundFees(ctx context.Context, t fees.Table, reason string) error {
	before, err := s.refundTable(ctx)
	if err != nil {
		return err
	}
	if err := s.setTable(ctx, "refund_fees", t); err != nil {
		return err
	}
	return s.cfg.Audit.Record(ctx, "fees.refund.set", "fee_table:refund", before, t, reason)
}

// SetChangeFees replaces the change fee table after validating it; reason
// is why, for the audit trail.
func (s *Service) SetChangeFees(ctx context.Context, t fees.Table, reason string) error {
	before, err := s.changeTable(ctx)
	if err != nil {
		return err
	}
	if err := s.setTable(ctx, "change_fees", t); err != nil {
		return err
	}
	return s.cfg.Audit.Record(ctx, "fees.change.set", "fee_table:change", before, t, reason)
}

func (s *Service) setTable(ctx context.Context, name string, t fees.Table) error {
	if err := t.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fault.Wrap(err, "encode "+name)
	}
	return s.queue(ctx, func(b2 *batch) error { return b2.tx.SetSetting(name, string(b)) })
}

// SharedSecret returns a random secret kept under name in the settings,
// creating it on first use; every process sharing the database gets the same.
func SharedSecret(ctx context.Context, store Store, name string) ([]byte, error) {
	var out string
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fault.Wrap(err, "secret entropy")
	}
	err := store.Update(ctx, func(tx Tx) error {
		var err error
		out, err = tx.EnsureSetting(name, hex.EncodeToString(b))
		return err
	})
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(out)
}
