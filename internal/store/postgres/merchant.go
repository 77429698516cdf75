package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
	"piao/internal/merchant"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// Merchant returns the store of merchants, their papers and invitations.
func (db *DB) Merchant() merchant.Store { return &merchantStore{db} }

// merchantStore implements merchant.Store on PostgreSQL. A scope is a
// condition on the merchant's ID: "($n OR merchant_id = $m)" with IsAll
// and MerchantID, so the zero scope matches nothing.
type merchantStore struct{ *DB }

var _ merchant.Store = (*merchantStore)(nil)

func scopeArgs(s tenant.Scope) (bool, int64) { return s.IsAll(), s.MerchantID() }

// CreateMerchant stores a merchant, its papers, token and first event.
func (s *merchantStore) CreateMerchant(ctx context.Context, m merchant.Merchant, papers []merchant.Paper, token []byte, ev merchant.Event) (merchant.Merchant, error) {
	var created, updated sqlrow.Time
	err := s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO merchants (kind, legal_name, credit_code, contact_name, contact_phone_sealed, admin_username,
			admin_password_hash, status, applicant_token, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id, created_at, updated_at`,
			string(m.Kind), m.LegalName, m.CreditCode, m.Contact.Name, s.pii.MerchantPhone(m.Contact.Phone), m.AdminUsername,
			m.AdminPasswordHash, string(m.Status), token, m.CreatedAt, m.UpdatedAt).Scan(&m.ID, &created, &updated)
		if v, name := violation(err); v == sqlrow.Unique {
			return sqlrow.MerchantUniqueViolation(name)
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
	m.CreatedAt, m.UpdatedAt = created.Time, updated.Time
	return m, nil
}

func insertPapers(ctx context.Context, tx pgx.Tx, pii sqlrow.PII, id int64, papers []merchant.Paper) ([]merchant.Paper, error) {
	for i := range papers {
		p := &papers[i]
		p.Merchant = id
		var at sqlrow.Time
		err := tx.QueryRow(ctx, `INSERT INTO merchant_papers (merchant_id, kind, name, content_type, size, sha256, data, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, created_at`,
			id, string(p.Kind), p.Name, p.ContentType, p.Size, p.SHA256, pii.SealBytes(p.Data), p.CreatedAt).Scan(&p.ID, &at)
		if err != nil {
			return nil, fault.Wrap(err, "store paper")
		}
		p.CreatedAt = at.Time
	}
	return papers, nil
}

func insertMerchantEvent(ctx context.Context, tx pgx.Tx, ev merchant.Event) error {
	_, err := tx.Exec(ctx, `INSERT INTO merchant_events (merchant_id, at, actor, action, from_status, to_status, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		ev.Merchant, ev.At, ev.Actor, string(ev.Action), string(ev.From), string(ev.To), ev.Reason)
	return fault.Wrap(err, "store merchant event")
}

// Merchant returns a merchant the scope sees.
func (s *merchantStore) Merchant(ctx context.Context, scope tenant.Scope, id int64) (merchant.Merchant, error) {
	all, mid := scopeArgs(scope)
	return s.pii.ScanMerchant(s.pool.QueryRow(ctx, `SELECT `+sqlrow.MerchantColumns+` FROM merchants WHERE id = $1 AND ($2 OR id = $3)`, id, all, mid))
}

// ApplicantMerchant returns the merchant an applicant token belongs to.
func (s *merchantStore) ApplicantMerchant(ctx context.Context, hash []byte) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM merchants WHERE applicant_token = $1`, hash).Scan(&id)
	return id, sqlrow.NoRowsAs(fault.Wrap(err, "read applicant token"), merchant.ErrNotFound)
}

// Merchants lists merchants, newest first.
func (s *merchantStore) Merchants(ctx context.Context, scope tenant.Scope, f merchant.Filter) ([]merchant.Merchant, error) {
	f = f.Bounded()
	all, mid := scopeArgs(scope)
	return list(ctx, s.pool, "list merchants", s.pii.ScanMerchant, `SELECT `+sqlrow.MerchantColumns+` FROM merchants
		WHERE ($1 OR id = $2) AND ($3 = '' OR status = $3) AND ($4 = '' OR kind = $4) ORDER BY id DESC LIMIT $5`,
		all, mid, string(f.Status), string(f.Kind), f.Limit)
}

// UpdateMerchant stores a change of status and its event, if the status is still from.
func (s *merchantStore) UpdateMerchant(ctx context.Context, scope tenant.Scope, m merchant.Merchant, from merchant.Status, ev merchant.Event) error {
	all, mid := scopeArgs(scope)
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE merchants SET status = $1, updated_at = $2, admin_account = $3, admin_password_hash = $4, suspended_accounts = $5
			WHERE id = $6 AND status = $7 AND ($8 OR id = $9)`,
			string(m.Status), m.UpdatedAt, m.AdminAccount, m.AdminPasswordHash, sqlrow.IDs(m.SuspendedAccounts), m.ID, string(from), all, mid)
		if v, name := violation(err); v == sqlrow.Unique {
			return sqlrow.MerchantUniqueViolation(name)
		}
		if err != nil {
			return fault.Wrap(err, "update merchant")
		}
		if tag.RowsAffected() == 0 {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM merchants WHERE id = $1 AND ($2 OR id = $3)`, m.ID, all, mid).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
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
	return list(ctx, s.pool, "list merchant events", sqlrow.ScanMerchantEvent, `SELECT `+sqlrow.MerchantEventColumns+` FROM merchant_events
		WHERE merchant_id = $1 AND ($2 OR merchant_id = $3) ORDER BY id`, id, all, mid)
}

// AddPapers stores papers if the merchant then holds at most max; the
// merchant's row is locked so two uploads cannot both pass the count.
func (s *merchantStore) AddPapers(ctx context.Context, scope tenant.Scope, id int64, papers []merchant.Paper, max int) ([]merchant.Paper, error) {
	all, mid := scopeArgs(scope)
	var out []merchant.Paper
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM merchants WHERE id = $1 AND ($2 OR id = $3) FOR UPDATE`, id, all, mid).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return merchant.ErrNotFound
		}
		if err != nil {
			return fault.Wrap(err, "lock merchant")
		}
		var held int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM merchant_papers WHERE merchant_id = $1`, id).Scan(&held); err != nil {
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
	return list(ctx, s.pool, "list papers", sqlrow.ScanPaper, `SELECT `+sqlrow.PaperColumns+` FROM merchant_papers
		WHERE merchant_id = $1 AND ($2 OR merchant_id = $3) ORDER BY id`, id, all, mid)
}

// Paper returns one paper with its bytes.
func (s *merchantStore) Paper(ctx context.Context, scope tenant.Scope, id, paper int64) (merchant.Paper, error) {
	all, mid := scopeArgs(scope)
	return s.pii.ScanPaperData(s.pool.QueryRow(ctx, `SELECT `+sqlrow.PaperColumns+`, data FROM merchant_papers
		WHERE id = $1 AND merchant_id = $2 AND ($3 OR merchant_id = $4)`, paper, id, all, mid))
}

// CreateInvitation stores an invitation of a merchant the scope sees.
func (s *merchantStore) CreateInvitation(ctx context.Context, scope tenant.Scope, inv merchant.Invitation) error {
	all, mid := scopeArgs(scope)
	tag, err := s.pool.Exec(ctx, `INSERT INTO merchant_invitations (hash, merchant_id, username, display_name, grants, invited_by, created_at, expires_at)
		SELECT $1, id, $2, $3, $4, $5, $6, $7 FROM merchants WHERE id = $8 AND ($9 OR id = $10)`,
		inv.Hash, inv.Username, inv.DisplayName, sqlrow.Grants(inv.Grants), inv.InvitedBy, inv.CreatedAt, inv.ExpiresAt, inv.Merchant, all, mid)
	if err != nil {
		return fault.Wrap(err, "store invitation")
	}
	if tag.RowsAffected() == 0 {
		return merchant.ErrNotFound
	}
	return nil
}

// Invitation returns the invitation with that token hash.
func (s *merchantStore) Invitation(ctx context.Context, hash []byte) (merchant.Invitation, error) {
	return sqlrow.ScanInvitation(s.pool.QueryRow(ctx, `SELECT `+sqlrow.InvitationColumns+` FROM merchant_invitations WHERE hash = $1`, hash))
}

// Invitations lists a merchant's open invitations, newest first.
func (s *merchantStore) Invitations(ctx context.Context, scope tenant.Scope, id int64, now time.Time) ([]merchant.Invitation, error) {
	all, mid := scopeArgs(scope)
	return list(ctx, s.pool, "list invitations", sqlrow.ScanInvitation, `SELECT `+sqlrow.InvitationColumns+` FROM merchant_invitations
		WHERE merchant_id = $1 AND ($2 OR merchant_id = $3) AND accepted_at IS NULL AND expires_at > $4 ORDER BY created_at DESC`, id, all, mid, now)
}

// AcceptInvitation marks an invitation accepted, once.
func (s *merchantStore) AcceptInvitation(ctx context.Context, hash []byte, account int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE merchant_invitations SET accepted_at = $1, account_id = $2 WHERE hash = $3 AND accepted_at IS NULL`, at, account, hash)
	if err != nil {
		return fault.Wrap(err, "accept invitation")
	}
	if tag.RowsAffected() == 0 {
		return merchant.ErrInvitationUsed
	}
	return nil
}
