// Package open opens the storage engine a configuration names. It is apart
// from package store because it imports the engines, which import store.
package open

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"piao/internal/store"
	"piao/internal/store/postgres"
	"piao/internal/store/sqlite"
)

// Engine opens the database named by database: a postgres:// or
// postgresql:// URL opens PostgreSQL; empty opens the embedded SQLite file
// piao.db in dataDir ("data" when empty), creating it if needed. It does
// not migrate.
func Engine(ctx context.Context, database, dataDir string) (store.Engine, error) {
	switch {
	case strings.HasPrefix(database, "postgres://"), strings.HasPrefix(database, "postgresql://"):
		db, err := postgres.Open(ctx, database)
		if err != nil {
			return nil, err // not a nil *DB inside a non-nil Engine
		}
		return db, nil
	case database == "":
		if dataDir == "" {
			dataDir = "data"
		}
		db, err := sqlite.Open(filepath.Join(dataDir, "piao.db"))
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	return nil, fmt.Errorf("unsupported database %q: use postgres://… or leave empty for the embedded SQLite", store.HidePassword(database))
}
