package store_test

import (
	"testing"

	"piao/internal/store"
)

func TestHidePassword(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://piao:s3cret@db.example:5432/piao?sslmode=disable", "postgres://piao:***@db.example:5432/piao?sslmode=disable"},
		{"postgresql://piao:p@ss@db/piao", "postgresql://piao:***@db/piao"}, // the last @ ends the credentials
		{"postgres://piao@db/piao", "postgres://piao@db/piao"},
		{"postgres://db/piao", "postgres://db/piao"},
		{"mysql://x", "mysql://x"},
		{"", ""},
	} {
		if got := store.HidePassword(c.in); got != c.want {
			t.Errorf("HidePassword(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
