// Package open opens the storage engine a configuration names. It is apart
// from package store because it imports the engines, which import store.
package open

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"piao/internal/store"
	"piao/internal/store/postgres"
	"piao/internal/store/sealed"
	"piao/internal/store/sqlite"
)

// Engine opens the database named by database: a postgres:// or
// postgresql:// URL opens PostgreSQL; empty opens the embedded SQLite file
// piao.db in dataDir ("data" when empty), creating it if needed. keys seal
// and index its personal data (see Keys). It does not migrate.
func Engine(ctx context.Context, database, dataDir string, keys *sealed.Keyring) (store.Engine, error) {
	if err := CheckDatabase(database); err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(database, "postgres://"), strings.HasPrefix(database, "postgresql://"):
		db, err := postgres.Open(ctx, database, keys)
		if err != nil {
			return nil, err // not a nil *DB inside a non-nil Engine
		}
		return db, nil
	case database == "":
		if dataDir == "" {
			dataDir = "data"
		}
		db, err := sqlite.Open(filepath.Join(dataDir, "piao.db"), keys)
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	return nil, CheckDatabase(database)
}

// CheckDatabase refuses a database Engine cannot open: neither a
// PostgreSQL URL nor empty (the embedded SQLite).
func CheckDatabase(database string) error {
	if database == "" || strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://") {
		return nil
	}
	return fmt.Errorf("unsupported database %q: use postgres://… or leave empty for the embedded SQLite", store.HidePassword(database))
}

// KeysEnv is the environment variable that may hold the key file's
// contents, for deployments that pass secrets in the environment.
const KeysEnv = "PIAO_PII_KEYS"

// KeyFileName is the key file's name in the data directory, where it is
// looked for when no other file is named.
const KeyFileName = "pii-keys.json"

// KeyConfig says where the personal-data keys come from.
type KeyConfig struct {
	// File is the key file; empty: KeyFileName in DataDir.
	File string
	// DataDir is the data directory ("data" when empty).
	DataDir string
	// Create makes a new key file (0600) when there is none: for the demo
	// and for `piao keys init`.
	Create bool
}

// Path is the key file the configuration names.
func (c KeyConfig) Path() string {
	if c.File != "" {
		return c.File
	}
	dir := c.DataDir
	if dir == "" {
		dir = "data"
	}
	return filepath.Join(dir, KeyFileName)
}

// ErrNoKeys explains how to give piao its personal-data keys.
var ErrNoKeys = errors.New("no personal-data key: ID and phone numbers are stored encrypted, and piao needs the key file " +
	"(--pii-key-file or PIAO_PII_KEY_FILE; default <data-dir>/" + KeyFileName + ") or its contents in " + KeysEnv +
	"; create one with `piao keys init` (serve --demo creates one by itself) / 未配置个人信息加密密钥：请用 --pii-key-file 指定密钥文件，或运行 piao keys init 生成")

// Keys loads the keyring: from KeysEnv when it is set, else from the key
// file, creating that when asked and absent. It says where the keys came from.
func Keys(c KeyConfig) (*sealed.Keyring, string, error) {
	if v := os.Getenv(KeysEnv); v != "" {
		k, err := sealed.Parse([]byte(v))
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", KeysEnv, err)
		}
		return k, KeysEnv, nil
	}
	path := c.Path()
	k, err := sealed.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		if !c.Create {
			return nil, "", fmt.Errorf("%w (looked for %s)", ErrNoKeys, path)
		}
		k = sealed.Generate()
		if err := sealed.Save(path, k); err != nil {
			return nil, "", fmt.Errorf("create personal-data key file: %w", err)
		}
		return k, path, nil
	}
	if err != nil {
		return nil, "", err
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, "", fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	return k, path, nil
}
