package main

import (
	"path/filepath"
	"strings"
)

// feedIDFromPath turns "path/to/LIRR.zip" into "lirr": lower case letters,
// digits and dashes only, so record IDs stay plain.
func feedIDFromPath(p string) string {
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(p)), ".zip")
	var b strings.Builder
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r == '_' || r == ' ' || r == '.':
			b.WriteRune('-')
		}
	}
	if b.Len() == 0 {
		return "feed"
	}
	return b.String()
}
