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
			`INSERT INTO accounts (username, phone, phone_sealed, display_name, role, password_hash, disabled, created_at, merchant_id, grants)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.Username, phoneIndex, phoneSealed, a.DisplayName, string(a.Role), a.PasswordHash, a.Disabled, sqlrow.At(a.CreatedAt), a.Merchant, sqlrow.Grants(a.Grants),
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

// TokensOf returns the account's unexpired tokens at now, newest first.
func (s *identityStore) TokensOf(ctx context.Context, accountID int64, now time.Time) ([]identity.Token, error) {
	return list(ctx, s.read, "tokens of account", sqlrow.ScanToken,
		`SELECT `+sqlrow.TokenColumns+` FROM tokens WHERE account_id = ? AND expires_at > ? ORDER BY created_at DESC, hash`,
		accountID, sqlrow.At(now))
}

// DeleteTokensOf removes every token of the account and returns how many.
func (s *identityStore) DeleteTokensOf(ctx context.Context, accountID int64) (int, error) {
	n, err := s.execCount(ctx, "delete tokens of account", `DELETE FROM tokens WHERE account_id = ?`, accountID)
	return int(n), err
}

// LoginFailures returns an account's run of failed logins (zero if none).
func (s *identityStore) LoginFailures(ctx context.Context, accountID int64) (identity.LoginFailures, error) {
	var f identity.LoginFailures
	var last sqlrow.Time
	var until sqlrow.NullTime
	err := s.read.QueryRowContext(ctx,
		`SELECT failures, last_failure_at, locked_until FROM login_failures WHERE account_id = ?`, accountID,
	).Scan(&f.Failures, &last, &until)
	if err == sql.ErrNoRows {
		return identity.LoginFailures{}, nil
	}
	if err != nil {
		return identity.LoginFailures{}, fault.Wrap(err, "login failures")
	}
	f.LastFailure, f.LockedUntil = last.Time, until.Time
	return f, nil
}

// AddLoginFailure counts one failed login and returns the run's length.
func (s *identityStore) AddLoginFailure(ctx context.Context, accountID int64, at, forgetBefore time.Time) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO login_failures (account_id, failures, last_failure_at) VALUES (?1, 1, ?2)
			 ON CONFLICT (account_id) DO UPDATE SET
			   failures = CASE WHEN login_failures.last_failure_at < ?3 THEN 1 ELSE login_failures.failures + 1 END,
			   last_failure_at = excluded.last_failure_at
			 RETURNING failures`,
			accountID, sqlrow.At(at), sqlrow.At(forgetBefore)).Scan(&n)
	})
	if v, _ := violation(err); v == sqlrow.ForeignKey {
		return 0, sqlrow.ErrAccountNotFound
	}
	if err != nil {
		return 0, fault.Wrap(err, "add login failure")
	}
	return n, nil
}

// LockLogin locks an account's logins until until, keeping a longer lock.
func (s *identityStore) LockLogin(ctx context.Context, accountID int64, until time.Time) error {
	n, err := s.execCount(ctx, "lock login",
		`UPDATE login_failures SET locked_until = MAX(COALESCE(locked_until, ?1), ?1) WHERE account_id = ?2`,
		sqlrow.At(until), accountID)
	if err == nil && n == 0 {
		return sqlrow.ErrAccountNotFound
	}
	return err
}

// ClearLoginFailures forgets an account's failed logins and its lock.
func (s *identityStore) ClearLoginFailures(ctx context.Context, accountID int64) error {
	_, err := s.execCount(ctx, "clear login failures", `DELETE FROM login_failures WHERE account_id = ?`, accountID)
	return err
}

// SetGrants replaces the merchant permissions of a merchant's account.
func (s *identityStore) SetGrants(ctx context.Context, id int64, grants []identity.Permission) error {
	n, err := s.execCount(ctx, "set grants", `UPDATE accounts SET grants = ? WHERE id = ?`, sqlrow.Grants(grants), id)
	if err == nil && n == 0 {
		return sqlrow.ErrAccountNotFound
	}
	return err
}

// SetDisabled disables or enables an account's logins.
func (s *identityStore) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	n, err := s.execCount(ctx, "set disabled", `UPDATE accounts SET disabled = ? WHERE id = ?`, disabled, id)
	if err == nil && n == 0 {
		return sqlrow.ErrAccountNotFound
	}
	return err
}

// MerchantAccounts lists a merchant's accounts, oldest first.
func (s *identityStore) MerchantAccounts(ctx context.Context, merchant int64) ([]identity.Account, error) {
	return list(ctx, s.read, "merchant accounts", s.pii.ScanAccount,
		`SELECT `+sqlrow.AccountColumns+` FROM accounts WHERE merchant_id = ? ORDER BY id`, merchant)
}
