package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"piao/internal/store/open"
	"piao/internal/store/sealed"
)

// keyConfig is where cfg says the personal-data keys are.
func (cfg Config) keyConfig() open.KeyConfig {
	return open.KeyConfig{File: cfg.KeyFile, DataDir: cfg.DataDir, Create: cfg.CreateKeys}
}

// InitKeys creates the personal-data key file cfg names, readable by its
// owner only; it refuses to replace one (that would make the stored data
// unreadable). It returns the file's path.
func InitKeys(cfg Config) (string, error) {
	path := cfg.keyConfig().Path()
	if _, err := os.Stat(path); err == nil {
		return "", fmt.Errorf("%s exists: piao will not replace a key file (the data sealed with it would be lost); use `piao keys rotate` to change keys", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	return path, sealed.Save(path, sealed.Generate())
}

// Rotation is what RotateKeys did.
type Rotation struct {
	File     string // the key file
	From, To uint32 // the key IDs before and after
	Resealed int    // values sealed again
}

// RotateKeys changes the key that seals personal data: it adds a new key
// to the key file (keeping the old ones, so everything stays readable
// while it runs), seals every stored value again with it, in batches with
// progress, and then drops the old keys from the file. An interrupted
// rotation resumes where it stopped when run again (the file still holds
// several keys, the newest current). Every piao process on the database
// must be stopped while it runs: they hold the old keys only. The
// rotation is recorded in the audit trail (action "pii.rotate").
func RotateKeys(ctx context.Context, cfg Config, progress func(table string, done int)) (Rotation, error) {
	if os.Getenv(open.KeysEnv) != "" {
		return Rotation{}, fmt.Errorf("the keys come from %s, which piao cannot rewrite: put them in a key file (--pii-key-file) to rotate them", open.KeysEnv)
	}
	kc := cfg.keyConfig()
	kc.Create = false
	keys, path, err := open.Keys(kc)
	if err != nil {
		return Rotation{}, err
	}
	r := Rotation{File: path, From: keys.Current()}
	if len(keys.IDs()) == 1 {
		keys = keys.Rotated()
		if err := sealed.Save(path, keys); err != nil { // old and new: every value stays readable
			return r, err
		}
	} else {
		r.From = keys.IDs()[0] // resuming: the oldest key is the one being retired
	}
	r.To = keys.Current()
	cfg.Keys = keys
	a, err := Open(ctx, cfg)
	if err != nil {
		return r, err
	}
	defer a.Close()
	if _, err := a.Migrate(ctx); err != nil {
		return r, err
	}
	if r.Resealed, err = a.db.Reseal(ctx, progress); err != nil {
		return r, fmt.Errorf("re-encrypt (run `piao keys rotate` again to resume; %s keeps every key until then): %w", path, err)
	}
	// A second pass must find nothing left under an old key before the old
	// keys go: a process still running writes with them, and what it wrote
	// behind the first pass would be unreadable without them.
	late, err := a.db.Reseal(ctx, nil)
	if err != nil {
		return r, fmt.Errorf("re-encrypt (run `piao keys rotate` again to resume): %w", err)
	}
	if late > 0 {
		return r, fmt.Errorf("%d values were sealed under an old key while rotating: a piao process is still running on this database; stop every one and run `piao keys rotate` again (%s keeps every key until then)", late, path)
	}
	subject := "pii_key:" + strconv.FormatUint(uint64(r.To), 10)
	if err := a.Audit.Record(ctx, "pii.rotate", subject, map[string]any{"key": r.From}, map[string]any{"key": r.To, "resealed": r.Resealed}, "key rotation"); err != nil {
		return r, err
	}
	return r, sealed.Save(path, keys.Retired())
}
