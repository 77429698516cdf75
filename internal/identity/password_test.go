package identity_test

import (
	"testing"

	"piao/internal/identity"
)

// FuzzCheckPassword checks that CheckPassword never panics on any encoded hash.
func FuzzCheckPassword(f *testing.F) {
	valid, err := identity.HashPassword("correct horse", identity.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, "correct horse")
	f.Add(valid, "")
	f.Add("", "")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$$", "x")
	f.Add("$argon2id$v=19$m=64,t=1,p=0$c2FsdA$a2V5", "x")
	f.Add("$argon2id$v=19$m=64,t=0,p=1$c2FsdA$a2V5", "x")
	f.Add("$argon2id$v=19$m=-1,t=1,p=1$c2FsdA$a2V5", "x")
	f.Add("$argon2id$v=19$m=64,t=1,p=256$c2FsdA$a2V5", "x")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$", "x")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$a2V5", "x")
	f.Add("$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5", "x")
	f.Add("$$$$$", "x")
	f.Fuzz(func(t *testing.T, encoded, password string) {
		ok := identity.CheckPassword(encoded, password)
		if encoded == valid && password == "correct horse" && !ok {
			t.Error("the valid hash does not check")
		}
	})
}
