package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"piao/internal/store/sealed"
	"piao/internal/store/sqlrow"
)

// TestUpgradeSealsPlainRows checks that a database from before personal
// data was sealed is sealed by the migration that crosses it: an account's
// phone stored in plain text is found by its phone afterwards and is no
// longer in the table as written.
func TestUpgradeSealsPlainRows(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "piao.db"), sealed.Generate())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, mustSub(migrations, "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, sqlrow.SealingMigration-1); err != nil {
		t.Fatal(err)
	}
	const phone = "13912345678"
	if _, err := db.write.ExecContext(ctx, `INSERT INTO accounts (username, phone, display_name, role, password_hash, created_at)
		VALUES ('old', ?, 'old', 'passenger', 'x', '2026-01-01T00:00:00.000000000Z')`, phone); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var stored, sealedPhone string
	if err := db.write.QueryRowContext(ctx, `SELECT phone, phone_sealed FROM accounts WHERE username = 'old'`).Scan(&stored, &sealedPhone); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored+sealedPhone, phone) || sealedPhone == "" {
		t.Errorf("after the upgrade the phone is stored as %q, sealed %q", stored, sealedPhone)
	}
	a, err := db.Identity().AccountByLogin(ctx, phone)
	if err != nil || a.Username != "old" || a.Phone != phone {
		t.Errorf("login by phone after the upgrade: %+v, %v", a, err)
	}
}
