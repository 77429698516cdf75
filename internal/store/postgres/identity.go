package postgres

import (
	"context"
	"time"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/store/sqlrow"
)

// identityStore implements identity.Store on PostgreSQL.
type identityStore struct{ *DB }

var _ identity.Store = (*identityStore)(nil)

// CreateAccount stores a new account; a taken username or phone is a conflict.
func (s *identityStore) CreateAccount(ctx context.Context, a identity.Account) (identity.Account, error) {
	// created_at is read back: TIMESTAMPTZ keeps microseconds.
	var created sqlrow.Time
	phoneIndex, phoneSealed := s.pii.AccountPhone(a.Phone)
	err := s.pool.QueryRow(ctx,
		`INSERT INTO accounts (username, phone, phone_sealed, display_name, role, password_hash, disabled, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, created_at`,
		a.Username, phoneIndex, phoneSealed, a.DisplayName, string(a.Role), a.PasswordHash, a.Disabled, a.CreatedAt,
	).Scan(&a.ID, &created)
	if v, _ := violation(err); v == sqlrow.Unique {
		return identity.Account{}, sqlrow.ErrAccountExists
	}
	if err != nil {
		return identity.Account{}, fault.Wrap(err, "create account")
	}
	a.CreatedAt = created.Time
	return a, nil
}

// AccountByLogin finds an account by username, or else by phone.
func (s *identityStore) AccountByLogin(ctx context.Context, login string) (identity.Account, error) {
	// A username equal to someone else's phone number wins over the phone.
	return s.pii.ScanAccount(s.pool.QueryRow(ctx,
		`SELECT `+sqlrow.AccountColumns+` FROM accounts
		 WHERE username = $1 OR phone = $2
		 ORDER BY username = $1 DESC LIMIT 1`, login, s.pii.PhoneIndex(login)))
}

// AccountByID finds an account by ID.
func (s *identityStore) AccountByID(ctx context.Context, id int64) (identity.Account, error) {
	return s.pii.ScanAccount(s.pool.QueryRow(ctx, `SELECT `+sqlrow.AccountColumns+` FROM accounts WHERE id = $1`, id))
}

// SetPassword replaces an account's password hash.
func (s *identityStore) SetPassword(ctx context.Context, id int64, hash string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE accounts SET password_hash = $1 WHERE id = $2`, hash, id)
	if err != nil {
		return fault.Wrap(err, "set password")
	}
	if tag.RowsAffected() == 0 {
		return sqlrow.ErrAccountNotFound
	}
	return nil
}

// CreateToken stores a token; a token for a missing account is not found.
func (s *identityStore) CreateToken(ctx context.Context, t identity.Token) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO tokens (hash, account_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		t.Hash, t.AccountID, string(t.Kind), t.CreatedAt, t.ExpiresAt)
	if v, _ := violation(err); v == sqlrow.ForeignKey {
		return sqlrow.ErrAccountNotFound
	}
	return fault.Wrap(err, "create token")
}

// TokenByHash returns the token with that hash, expired or not.
func (s *identityStore) TokenByHash(ctx context.Context, hash []byte) (identity.Token, error) {
	return sqlrow.ScanToken(s.pool.QueryRow(ctx, `SELECT `+sqlrow.TokenColumns+` FROM tokens WHERE hash = $1`, hash))
}

// Credential returns a token and its account in one read.
func (s *identityStore) Credential(ctx context.Context, hash []byte) (identity.Token, identity.Account, error) {
	return s.pii.ScanCredential(s.pool.QueryRow(ctx,
		`SELECT `+sqlrow.CredentialColumns+` FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.hash = $1`, hash))
}

// DeleteToken removes a token; removing a missing token is not an error.
func (s *identityStore) DeleteToken(ctx context.Context, hash []byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM tokens WHERE hash = $1`, hash)
	return fault.Wrap(err, "delete token")
}

// DeleteExpiredTokens removes tokens that expired before now and returns how many.
func (s *identityStore) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM tokens WHERE expires_at < $1`, now)
	if err != nil {
		return 0, fault.Wrap(err, "delete expired tokens")
	}
	return int(tag.RowsAffected()), nil
}
