package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"piao/internal/fault"
	"piao/internal/merchant"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// Merchant returns the store of merchants, their papers and invitations.
func (db *DB) Merchant() merchant.Store { return &merchantStore{db} }

// merchantStore implements merchant.Store on SQLite. A scope is a
// condition on the merchant's ID: "(? OR merchant_id = ?)" with IsAll and
// MerchantID, so the zero scope matches nothing.
type merchantStore struct{ *DB }

var _ merchant.Store = (*merchantStore)(nil)

func scopeArgs(s tenant.Scope) (bool, int64) { return s.IsAll(), s.MerchantID() }

// CreateMerchant stores a merchant, its papers, token and first event.
func (s *merchantStore) CreateMerchant(ctx context.Context, m merchant.Merchant, papers []merchant.Paper, token []byte, ev merchant.Event) (merchant.Merchant, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO merchants (kind, legal_name, credit_code, contact_name, contact_phone_sealed, admin_username,
			admin_password_hash, status, applicant_token, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			string(m.Kind), m.LegalName, m.CreditCode, m.Contact.Name, s.pii.MerchantPhone(m.Contact.Phone), m.AdminUsername,
			m.AdminPasswordHash, string(m.Status), token, sqlrow.At(m.CreatedAt), sqlrow.At(m.UpdatedAt)).Scan(&m.ID)
		if v, msg := violation(err); v == sqlrow.Unique {
			return sqlrow.MerchantUniqueViolation(msg)
		}
		if err != nil {
			return fault.Wrap(err, "store merchant")
		}
		if _, err := insertPapers(ctx, tx, s.pii, m.ID, papers); err != nil {
			return err
		}
		ev.Merchant = m.ID
		return insertMerchantEvent(ctx, tx, ev)
	})
	if err != nil {
		return merchant.Merchant{}, err
	}
	return m, nil
}

func insertPapers(ctx context.Context, tx *sql.Tx, pii sqlrow.PII, id int64, papers []merchant.Paper) ([]merchant.Paper, error) {
	for i := range papers {
		p := &papers[i]
		p.Merchant = id
		err := tx.QueryRowContext(ctx, `INSERT INTO merchant_papers (merchant_id, kind, name, content_type, size, sha256, data, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			id, string(p.Kind), p.Name, p.ContentType, p.Size, p.SHA256, pii.SealBytes(p.Data), sqlrow.At(p.CreatedAt)).Scan(&p.ID)
		if err != nil {
			return nil, fault.Wrap(err, "store paper")
		}
	}
	return papers, nil
}

func insertMerchantEvent(ctx context.Context, tx *sql.Tx, ev merchant.Event) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO merchant_events (merchant_id, at, actor, action, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ev.Merchant, sqlrow.At(ev.At), ev.Actor, string(ev.Action), string(ev.From), string(ev.To), ev.Reason)
	return fault.Wrap(err, "store merchant event")
}

// Merchant returns a merchant the scope sees.
func (s *merchantStore) Merchant(ctx context.Context, scope tenant.Scope, id int64) (merchant.Merchant, error) {
	all, mid := scopeArgs(scope)
	return s.pii.ScanMerchant(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.MerchantColumns+` FROM merchants WHERE id = ? AND (? OR id = ?)`, id, all, mid))
}

// ApplicantMerchant returns the merchant an applicant token belongs to.
func (s *merchantStore) ApplicantMerchant(ctx context.Context, hash []byte) (int64, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, `SELECT id FROM merchants WHERE applicant_token = ?`, hash).Scan(&id)
	return id, sqlrow.NoRowsAs(fault.Wrap(err, "read applicant token"), merchant.ErrNotFound)
}

// Merchants lists merchants, newest first.
func (s *merchantStore) Merchants(ctx context.Context, scope tenant.Scope, f merchant.Filter) ([]merchant.Merchant, error) {
	f = f.Bounded()
	all, mid := scopeArgs(scope)
	return list(ctx, s.read, "list merchants", s.pii.ScanMerchant, `SELECT `+sqlrow.MerchantColumns+` FROM merchants
		WHERE (? OR id = ?) AND (? = '' OR status = ?) AND (? = '' OR kind = ?) ORDER BY id DESC LIMIT ?`,
		all, mid, string(f.Status), string(f.Status), string(f.Kind), string(f.Kind), f.Limit)
}

// UpdateMerchant stores a change of status and its event, if the status is still from.
func (s *merchantStore) UpdateMerchant(ctx context.Context, scope tenant.Scope, m merchant.Merchant, from merchant.Status, ev merchant.Event) error {
	all, mid := scopeArgs(scope)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE merchants SET status = ?, updated_at = ?, admin_account = ?, admin_password_hash = ?, suspended_accounts = ?
			WHERE id = ? AND status = ? AND (? OR id = ?)`,
			string(m.Status), sqlrow.At(m.UpdatedAt), m.AdminAccount, m.AdminPasswordHash, sqlrow.IDs(m.SuspendedAccounts), m.ID, string(from), all, mid)
		if v, msg := violation(err); v == sqlrow.Unique {
			return sqlrow.MerchantUniqueViolation(msg)
		}
		if err != nil {
			return fault.Wrap(err, "update merchant")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM merchants WHERE id = ? AND (? OR id = ?)`, m.ID, all, mid).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return merchant.ErrNotFound
			}
			return merchant.ErrStale
		}
		ev.Merchant = m.ID
		return insertMerchantEvent(ctx, tx, ev)
	})
}

// Events lists a merchant's events, oldest first.
func (s *merchantStore) Events(ctx context.Context, scope tenant.Scope, id int64) ([]merchant.Event, error) {
	all, mid := scopeArgs(scope)
	return list(ctx, s.read, "list merchant events", sqlrow.ScanMerchantEvent, `SELECT `+sqlrow.MerchantEventColumns+` FROM merchant_events
		WHERE merchant_id = ? AND (? OR merchant_id = ?) ORDER BY id`, id, all, mid)
}

// AddPapers stores papers if the merchant then holds at most max.
func (s *merchantStore) AddPapers(ctx context.Context, scope tenant.Scope, id int64, papers []merchant.Paper, max int) ([]merchant.Paper, error) {
	all, mid := scopeArgs(scope)
	var out []merchant.Paper
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var held int
		err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM merchant_papers WHERE merchant_id = m.id) FROM merchants m WHERE m.id = ? AND (? OR m.id = ?)`,
			id, all, mid).Scan(&held)
		if errors.Is(err, sql.ErrNoRows) {
			return merchant.ErrNotFound
		}
		if err != nil {
			return fault.Wrap(err, "count papers")
		}
		if held+len(papers) > max {
			return merchant.ErrTooManyPapers
		}
		out, err = insertPapers(ctx, tx, s.pii, id, papers)
		return err
	})
	return out, err
}

// Papers lists a merchant's papers without their bytes.
func (s *merchantStore) Papers(ctx context.Context, scope tenant.Scope, id int64) ([]merchant.Paper, error) {
	all, mid := scopeArgs(scope)
	return list(ctx, s.read, "list papers", sqlrow.ScanPaper, `SELECT `+sqlrow.PaperColumns+` FROM merchant_papers
		WHERE merchant_id = ? AND (? OR merchant_id = ?) ORDER BY id`, id, all, mid)
}

// Paper returns one paper with its bytes.
func (s *merchantStore) Paper(ctx context.Context, scope tenant.Scope, id, paper int64) (merchant.Paper, error) {
	all, mid := scopeArgs(scope)
	return s.pii.ScanPaperData(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.PaperColumns+`, data FROM merchant_papers
		WHERE id = ? AND merchant_id = ? AND (? OR merchant_id = ?)`, paper, id, all, mid))
}

// CreateInvitation stores an invitation of a merchant the scope sees.
func (s *merchantStore) CreateInvitation(ctx context.Context, scope tenant.Scope, inv merchant.Invitation) error {
	all, mid := scopeArgs(scope)
	n, err := s.execCount(ctx, "store invitation", `INSERT INTO merchant_invitations (hash, merchant_id, username, display_name, grants, invited_by, created_at, expires_at)
		SELECT ?, id, ?, ?, ?, ?, ?, ? FROM merchants WHERE id = ? AND (? OR id = ?)`,
		inv.Hash, inv.Username, inv.DisplayName, sqlrow.Grants(inv.Grants), inv.InvitedBy, sqlrow.At(inv.CreatedAt), sqlrow.At(inv.ExpiresAt), inv.Merchant, all, mid)
	if err == nil && n == 0 {
		return merchant.ErrNotFound
	}
	return err
}

// Invitation returns the invitation with that token hash.
func (s *merchantStore) Invitation(ctx context.Context, hash []byte) (merchant.Invitation, error) {
	return sqlrow.ScanInvitation(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.InvitationColumns+` FROM merchant_invitations WHERE hash = ?`, hash))
}

// Invitations lists a merchant's open invitations, newest first.
func (s *merchantStore) Invitations(ctx context.Context, scope tenant.Scope, id int64, now time.Time) ([]merchant.Invitation, error) {
	all, mid := scopeArgs(scope)
	return list(ctx, s.read, "list invitations", sqlrow.ScanInvitation, `SELECT `+sqlrow.InvitationColumns+` FROM merchant_invitations
		WHERE merchant_id = ? AND (? OR merchant_id = ?) AND accepted_at IS NULL AND expires_at > ? ORDER BY created_at DESC`, id, all, mid, sqlrow.At(now))
}

// AcceptInvitation marks an invitation accepted, once.
func (s *merchantStore) AcceptInvitation(ctx context.Context, hash []byte, account int64, at time.Time) error {
	n, err := s.execCount(ctx, "accept invitation", `UPDATE merchant_invitations SET accepted_at = ?, account_id = ? WHERE hash = ? AND accepted_at IS NULL`,
		sqlrow.At(at), account, hash)
	if err == nil && n == 0 {
		return merchant.ErrInvitationUsed
	}
	return err
}
