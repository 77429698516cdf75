package open_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"piao/internal/store/open"
	"piao/internal/store/sealed"
	"piao/internal/store/storetest"
)

func TestEngineSQLite(t *testing.T) {
	dir := t.TempDir()
	db, err := open.Engine(context.Background(), "", dir, sealed.Generate())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if want := filepath.Join(dir, "piao.db"); db.Name() != "sqlite" || db.Where() != want {
		t.Errorf("opened %s at %s, want sqlite at %s", db.Name(), db.Where(), want)
	}
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestEnginePostgres(t *testing.T) {
	u := storetest.FreshPostgresDatabase(t)
	db, err := open.Engine(context.Background(), u, "ignored", sealed.Generate())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Name() != "postgres" || db.Where() != u { // the test URL has no password
		t.Errorf("opened %s at %s, want postgres at %s", db.Name(), db.Where(), u)
	}
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestEngineRefuses(t *testing.T) {
	db, err := open.Engine(context.Background(), "mysql://piao:s3cret@db/piao", "", sealed.Generate())
	if err == nil || !strings.Contains(err.Error(), "unsupported database") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unsupported database: %v", err)
	}
	if db != nil {
		t.Errorf("an engine with the error: %v", db)
	}
	// A failed open returns no engine, not a nil database inside one.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err := open.Engine(context.Background(), "", filepath.Join(file, "sub"), sealed.Generate()); err == nil || db != nil {
		t.Errorf("SQLite under a file: engine %v, error %v", db, err)
	}
	if db, err := open.Engine(context.Background(), "postgres://127.0.0.1:1/none?connect_timeout=2", "", sealed.Generate()); err == nil || db != nil {
		t.Errorf("PostgreSQL nobody listens for: engine %v, error %v", db, err)
	}
}
