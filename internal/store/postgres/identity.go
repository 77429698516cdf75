package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"piao/internal/fault"
	"piao/internal/identity"
)

// identityStore implements identity.Store on PostgreSQL.
type identityStore struct{ *DB }

var _ identity.Store = (*identityStore)(nil)

// PostgreSQL error codes the identity store tells apart.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// identPgCode returns the SQLSTATE of err, or "".
func identPgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

var (
	errAccountExists   = fault.New(fault.Conflict, "account_exists", "用户名或手机号已被使用", "the username or phone number is already taken")
	errAccountNotFound = fault.New(fault.NotFound, "account_not_found", "账号不存在", "account not found")
	errTokenNotFound   = fault.New(fault.NotFound, "token_not_found", "令牌不存在", "token not found")
)

const accountColumns = `id, username, COALESCE(phone, ''), display_name, role, password_hash, disabled, created_at`

func scanAccount(row pgx.Row) (identity.Account, error) {
	var a identity.Account
	err := row.Scan(&a.ID, &a.Username, &a.Phone, &a.DisplayName, (*string)(&a.Role), &a.PasswordHash, &a.Disabled, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Account{}, errAccountNotFound
	}
	if err != nil {
		return identity.Account{}, fault.Wrap(err, "scan account")
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return a, nil
}

// CreateAccount stores a new account; a taken username or phone is a conflict.
func (s *identityStore) CreateAccount(ctx context.Context, a identity.Account) (identity.Account, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx,
			`INSERT INTO accounts (username, phone, display_name, role, password_hash, disabled, created_at)
			 VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6, $7) RETURNING id, created_at`,
			a.Username, a.Phone, a.DisplayName, string(a.Role), a.PasswordHash, a.Disabled, a.CreatedAt,
		).Scan(&a.ID, &a.CreatedAt)
	})
	switch {
	case err == nil:
		a.CreatedAt = a.CreatedAt.UTC()
		return a, nil
	case identPgCode(err) == pgUniqueViolation:
		return identity.Account{}, errAccountExists
	default:
		return identity.Account{}, fault.Wrap(err, "create account")
	}
}

// AccountByLogin finds an account by username, or else by phone.
func (s *identityStore) AccountByLogin(ctx context.Context, login string) (identity.Account, error) {
	// A username equal to someone else's phone number wins over the phone.
	return scanAccount(s.pool.QueryRow(ctx,
		`SELECT `+accountColumns+` FROM accounts
		 WHERE username = $1 OR phone = $1
		 ORDER BY username = $1 DESC LIMIT 1`, login))
}

// AccountByID finds an account by ID.
func (s *identityStore) AccountByID(ctx context.Context, id int64) (identity.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
}

// SetPassword replaces an account's password hash.
func (s *identityStore) SetPassword(ctx context.Context, id int64, hash string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE accounts SET password_hash = $1 WHERE id = $2`, hash, id)
	if err != nil {
		return fault.Wrap(err, "set password")
	}
	if tag.RowsAffected() == 0 {
		return errAccountNotFound
	}
	return nil
}

// CreateToken stores a token; a token for a missing account is not found.
func (s *identityStore) CreateToken(ctx context.Context, t identity.Token) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO tokens (hash, account_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		t.Hash, t.AccountID, string(t.Kind), t.CreatedAt, t.ExpiresAt)
	if identPgCode(err) == pgForeignKeyViolation {
		return errAccountNotFound
	}
	return fault.Wrap(err, "create token")
}

// TokenByHash returns the token with that hash, expired or not.
func (s *identityStore) TokenByHash(ctx context.Context, hash []byte) (identity.Token, error) {
	var t identity.Token
	err := s.pool.QueryRow(ctx,
		`SELECT hash, account_id, kind, created_at, expires_at FROM tokens WHERE hash = $1`, hash,
	).Scan(&t.Hash, &t.AccountID, (*string)(&t.Kind), &t.CreatedAt, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Token{}, errTokenNotFound
	}
	if err != nil {
		return identity.Token{}, fault.Wrap(err, "token by hash")
	}
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	return t, nil
}

// Credential returns a token and its account in one read.
func (s *identityStore) Credential(ctx context.Context, hash []byte) (identity.Token, identity.Account, error) {
	var t identity.Token
	var a identity.Account
	err := s.pool.QueryRow(ctx, `SELECT a.id, a.username, COALESCE(a.phone, ''), a.display_name, a.role, a.password_hash, a.disabled, a.created_at,
		t.hash, t.kind, t.created_at, t.expires_at FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.hash = $1`, hash,
	).Scan(&a.ID, &a.Username, &a.Phone, &a.DisplayName, (*string)(&a.Role), &a.PasswordHash, &a.Disabled, &a.CreatedAt,
		&t.Hash, (*string)(&t.Kind), &t.CreatedAt, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Token{}, identity.Account{}, errTokenNotFound
	}
	if err != nil {
		return identity.Token{}, identity.Account{}, fault.Wrap(err, "credential")
	}
	t.AccountID = a.ID
	a.CreatedAt, t.CreatedAt, t.ExpiresAt = a.CreatedAt.UTC(), t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	return t, a, nil
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
