package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"piao/internal/app"
)

type keysCmd struct {
	Init   keysInitCmd   `cmd:"" help:"Create the personal-data key file (mode 0600; refuses to replace one). Keep it safe and backed up: without it the stored ID and phone numbers cannot be read."`
	Rotate keysRotateCmd `cmd:"" help:"Add a new key, re-encrypt every stored ID and phone number with it (in batches, with progress), then drop the old keys. Stop every piao server on the database first; an interrupted rotation resumes when run again."`
}

type keysInitCmd struct{}

func (keysInitCmd) Run(c *cli) error {
	path, err := app.InitKeys(c.config())
	if err != nil {
		return err
	}
	fmt.Printf("created the personal-data key file %s (0600) / 已生成个人信息密钥文件\n", path)
	return nil
}

type keysRotateCmd struct{}

func (keysRotateCmd) Run(ctx context.Context, c *cli) error {
	// A line per table and at most one a second while a table runs.
	var table string
	var last time.Time
	r, err := app.RotateKeys(ctx, c.config(), func(t string, done int) {
		if t != table || time.Since(last) >= time.Second {
			table, last = t, time.Now()
			fmt.Fprintf(os.Stderr, "re-encrypt %s: %d values so far\n", t, done)
		}
	})
	if err != nil {
		return err
	}
	fmt.Printf("rotated the personal-data key %d → %d in %s: %d values re-encrypted; the old key is gone from the file / 密钥已轮换\n", r.From, r.To, r.File, r.Resealed)
	return nil
}
