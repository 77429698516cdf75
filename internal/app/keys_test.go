package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/identity"
	"piao/internal/store/sealed"
)

// TestRotateKeys creates a key file, stores an account with a phone,
// rotates: the file then holds only the new key, which reads the phone,
// and login by phone still works.
func TestRotateKeys(t *testing.T) {
	ctx := context.Background()
	cfg := app.Config{DataDir: t.TempDir()}
	if _, err := app.Open(ctx, cfg); err == nil {
		t.Fatal("opened a database without a key")
	}
	path, err := app.InitKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.InitKeys(cfg); err == nil {
		t.Fatal("InitKeys replaced a key file")
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Identity.Store.CreateAccount(ctx, identity.Account{Username: "u", Phone: "13812345678", DisplayName: "u", Role: identity.Passenger, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	a.Close()

	var tables []string
	r, err := app.RotateKeys(ctx, cfg, func(table string, done int) { tables = append(tables, table) })
	if err != nil {
		t.Fatal(err)
	}
	if r.From != 1 || r.To != 2 || r.Resealed != 1 || r.File != filepath.Join(cfg.DataDir, "pii-keys.json") || len(tables) == 0 {
		t.Fatalf("rotation %+v, progress %v", r, tables)
	}
	keys, err := sealed.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if ids := keys.IDs(); len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("the key file holds keys %v after the rotation, want [2]", ids)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
	a, err = app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got, err := a.Identity.Store.AccountByLogin(ctx, "13812345678")
	if err != nil || got.Phone != "13812345678" {
		t.Fatalf("login by phone after rotation: %+v, %v", got, err)
	}
}
