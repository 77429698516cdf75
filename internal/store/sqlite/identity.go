package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"piao/internal/fault"
	"piao/internal/identity"
)

// identityStore implements identity.Store on SQLite.
type identityStore struct{ *DB }

var _ identity.Store = (*identityStore)(nil)

// identSQLiteCode returns the extended SQLite result code of err, or 0.
func identSQLiteCode(err error) int {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

var (
	errAccountExists   = fault.New(fault.Conflict, "account_exists", "用户名或手机号已被使用", "the username or phone number is already taken")
	errAccountNotFound = fault.New(fault.NotFound, "account_not_found", "账号不存在", "account not found")
	errTokenNotFound   = fault.New(fault.NotFound, "token_not_found", "令牌不存在", "token not found")
)

const accountColumns = `id, username, COALESCE(phone, ''), display_name, role, password_hash, disabled, created_at`

func scanAccount(row interface{ Scan(...any) error }) (identity.Account, error) {
	var a identity.Account
	var created string
	err := row.Scan(&a.ID, &a.Username, &a.Phone, &a.DisplayName, (*string)(&a.Role), &a.PasswordHash, &a.Disabled, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Account{}, errAccountNotFound
	}
	if err != nil {
		return identity.Account{}, fault.Wrap(err, "scan account")
	}
	if a.CreatedAt, err = parseTime(created); err != nil {
		return identity.Account{}, fault.Wrap(err, "parse account created_at")
	}
	return a, nil
}

// CreateAccount stores a new account; a taken username or phone is a conflict.
func (s *identityStore) CreateAccount(ctx context.Context, a identity.Account) (identity.Account, error) {
	a.CreatedAt = a.CreatedAt.UTC()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO accounts (username, phone, display_name, role, password_hash, disabled, created_at)
			 VALUES (?, NULLIF(?, ''), ?, ?, ?, ?, ?) RETURNING id`,
			a.Username, a.Phone, a.DisplayName, string(a.Role), a.PasswordHash, a.Disabled, formatTime(a.CreatedAt),
		).Scan(&a.ID)
	})
	switch code := identSQLiteCode(err); {
	case err == nil:
		return a, nil
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return identity.Account{}, errAccountExists
	default:
		return identity.Account{}, fault.Wrap(err, "create account")
	}
}

// AccountByLogin finds an account by username, or else by phone.
func (s *identityStore) AccountByLogin(ctx context.Context, login string) (identity.Account, error) {
	// A username equal to someone else's phone number wins over the phone.
	return scanAccount(s.read.QueryRowContext(ctx,
		`SELECT `+accountColumns+` FROM accounts
		 WHERE username = ?1 OR phone = ?1
		 ORDER BY username = ?1 DESC LIMIT 1`, login))
}

// AccountByID finds an account by ID.
func (s *identityStore) AccountByID(ctx context.Context, id int64) (identity.Account, error) {
	return scanAccount(s.queryRowHot(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
}

// SetPassword replaces an account's password hash.
func (s *identityStore) SetPassword(ctx context.Context, id int64, hash string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, hash, id)
		if err != nil {
			return fault.Wrap(err, "set password")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fault.Wrap(err, "set password")
		}
		if n == 0 {
			return errAccountNotFound
		}
		return nil
	})
}

// CreateToken stores a token; a token for a missing account is not found.
func (s *identityStore) CreateToken(ctx context.Context, t identity.Token) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO tokens (hash, account_id, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			t.Hash, t.AccountID, string(t.Kind), formatTime(t.CreatedAt), formatTime(t.ExpiresAt))
		return err
	})
	if identSQLiteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return errAccountNotFound
	}
	return fault.Wrap(err, "create token")
}

// TokenByHash returns the token with that hash, expired or not.
func (s *identityStore) TokenByHash(ctx context.Context, hash []byte) (identity.Token, error) {
	var t identity.Token
	var created, expires string
	err := s.queryRowHot(ctx,
		`SELECT hash, account_id, kind, created_at, expires_at FROM tokens WHERE hash = ?`, hash,
	).Scan(&t.Hash, &t.AccountID, (*string)(&t.Kind), &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Token{}, errTokenNotFound
	}
	if err != nil {
		return identity.Token{}, fault.Wrap(err, "token by hash")
	}
	if t.CreatedAt, err = parseTime(created); err != nil {
		return identity.Token{}, fault.Wrap(err, "parse token created_at")
	}
	if t.ExpiresAt, err = parseTime(expires); err != nil {
		return identity.Token{}, fault.Wrap(err, "parse token expires_at")
	}
	return t, nil
}

// qCredential reads a token and its account in one statement; the account
// columns come first, in scanAccount's order.
const qCredential = `SELECT a.id, a.username, COALESCE(a.phone, ''), a.display_name, a.role, a.password_hash, a.disabled, a.created_at,
	t.hash, t.kind, t.created_at, t.expires_at FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.hash = ?`

// Credential returns a token and its account in one read.
func (s *identityStore) Credential(ctx context.Context, hash []byte) (identity.Token, identity.Account, error) {
	var t identity.Token
	var a identity.Account
	var aCreated, tCreated, tExpires string
	err := s.queryRowHot(ctx, qCredential, hash).Scan(&a.ID, &a.Username, &a.Phone, &a.DisplayName, (*string)(&a.Role), &a.PasswordHash, &a.Disabled, &aCreated,
		&t.Hash, (*string)(&t.Kind), &tCreated, &tExpires)
	if errors.Is(err, sql.ErrNoRows) {
		return t, a, errTokenNotFound
	}
	if err != nil {
		return t, a, fault.Wrap(err, "credential")
	}
	t.AccountID = a.ID
	var e1, e2, e3 error
	a.CreatedAt, e1 = parseTime(aCreated)
	t.CreatedAt, e2 = parseTime(tCreated)
	t.ExpiresAt, e3 = parseTime(tExpires)
	return t, a, fault.Wrap(errors.Join(e1, e2, e3), "parse credential times")
}

// DeleteToken removes a token; removing a missing token is not an error.
func (s *identityStore) DeleteToken(ctx context.Context, hash []byte) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE hash = ?`, hash)
		return fault.Wrap(err, "delete token")
	})
}

// DeleteExpiredTokens removes tokens that expired before now and returns how many.
func (s *identityStore) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at < ?`, formatTime(now))
		if err != nil {
			return fault.Wrap(err, "delete expired tokens")
		}
		n, err = res.RowsAffected()
		return fault.Wrap(err, "delete expired tokens")
	})
	return int(n), err
}
