package sqlite

import (
	"context"
	"database/sql"
	"time"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/store/sqlrow"
)

// identityStore implements identity.Store on SQLite.
type identityStore struct{ *DB }

var _ identity.Store = (*identityStore)(nil)

// CreateAccount stores a new account; a taken username or phone is a conflict.
func (s *identityStore) CreateAccount(ctx context.Context, a identity.Account) (identity.Account, error) {
	a.CreatedAt = a.CreatedAt.UTC()
	phoneIndex, phoneSealed := s.pii.AccountPhone(a.Phone)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO accounts (username, phone, phone_sealed, display_name, role, password_hash, disabled, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.Username, phoneIndex, phoneSealed, a.DisplayName, string(a.Role), a.PasswordHash, a.Disabled, sqlrow.At(a.CreatedAt),
		).Scan(&a.ID)
	})
	if v, _ := violation(err); v == sqlrow.Unique {
		return identity.Account{}, sqlrow.ErrAccountExists
	}
	if err != nil {
		return identity.Account{}, fault.Wrap(err, "create account")
	}
	return a, nil
}

// AccountByLogin finds an account by username, or else by phone.
func (s *identityStore) AccountByLogin(ctx context.Context, login string) (identity.Account, error) {
	// A username equal to someone else's phone number wins over the phone.
	return s.pii.ScanAccount(s.read.QueryRowContext(ctx,
		`SELECT `+sqlrow.AccountColumns+` FROM accounts
		 WHERE username = ?1 OR phone = ?2
		 ORDER BY username = ?1 DESC LIMIT 1`, login, s.pii.PhoneIndex(login)))
}

// AccountByID finds an account by ID.
func (s *identityStore) AccountByID(ctx context.Context, id int64) (identity.Account, error) {
	return s.pii.ScanAccount(s.queryRowHot(ctx, `SELECT `+sqlrow.AccountColumns+` FROM accounts WHERE id = ?`, id))
}

// SetPassword replaces an account's password hash.
func (s *identityStore) SetPassword(ctx context.Context, id int64, hash string) error {
	n, err := s.execCount(ctx, "set password", `UPDATE accounts SET password_hash = ? WHERE id = ?`, hash, id)
	if err == nil && n == 0 {
		return sqlrow.ErrAccountNotFound
	}
	return err
}

// CreateToken stores a token; a token for a missing account is not found.
func (s *identityStore) CreateToken(ctx context.Context, t identity.Token) error {
	_, err := s.execCount(ctx, "create token",
		`INSERT INTO tokens (hash, account_id, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		t.Hash, t.AccountID, string(t.Kind), sqlrow.At(t.CreatedAt), sqlrow.At(t.ExpiresAt))
	if v, _ := violation(err); v == sqlrow.ForeignKey {
		return sqlrow.ErrAccountNotFound
	}
	return err
}

// TokenByHash returns the token with that hash, expired or not.
func (s *identityStore) TokenByHash(ctx context.Context, hash []byte) (identity.Token, error) {
	return sqlrow.ScanToken(s.queryRowHot(ctx, `SELECT `+sqlrow.TokenColumns+` FROM tokens WHERE hash = ?`, hash))
}

// Credential returns a token and its account in one read.
func (s *identityStore) Credential(ctx context.Context, hash []byte) (identity.Token, identity.Account, error) {
	return s.pii.ScanCredential(s.queryRowHot(ctx,
		`SELECT `+sqlrow.CredentialColumns+` FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.hash = ?`, hash))
}

// DeleteToken removes a token; removing a missing token is not an error.
func (s *identityStore) DeleteToken(ctx context.Context, hash []byte) error {
	_, err := s.execCount(ctx, "delete token", `DELETE FROM tokens WHERE hash = ?`, hash)
	return err
}

// DeleteExpiredTokens removes tokens that expired before now and returns how many.
func (s *identityStore) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	n, err := s.execCount(ctx, "delete expired tokens", `DELETE FROM tokens WHERE expires_at < ?`, sqlrow.At(now))
	return int(n), err
}
