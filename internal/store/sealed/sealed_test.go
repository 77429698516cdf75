package sealed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenRotate(t *testing.T) {
	k := Generate()
	a, b := k.Seal("360102199001011234"), k.Seal("360102199001011234")
	if a == b {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if strings.Contains(a, "1234") {
		t.Errorf("sealed value %q shows the plain text", a)
	}
	if got, err := k.Open(a); err != nil || got != "360102199001011234" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if k.Index("x") != k.Index("x") || k.Index("x") == k.Index("y") || k.Index("") != "" {
		t.Error("the index is not a function of the value")
	}
	r := k.Rotated()
	if r.Current() != 2 || KeyOf(r.Seal("v")) != 2 {
		t.Fatalf("rotated keyring seals with key %d", KeyOf(r.Seal("v")))
	}
	if got, err := r.Open(a); err != nil || got != "360102199001011234" {
		t.Fatalf("the rotated keyring cannot open an old value: %q, %v", got, err)
	}
	re, changed, err := r.Reseal(a)
	if err != nil || !changed || KeyOf(re) != 2 {
		t.Fatalf("Reseal = %q, %v, %v", re, changed, err)
	}
	if r.Index("x") != k.Index("x") {
		t.Error("rotation changed the index key; every index would go stale")
	}
	retired := r.Retired()
	if _, err := retired.Open(a); err == nil {
		t.Error("a retired key still opens")
	}
	if got, err := retired.Open(re); err != nil || got != "360102199001011234" {
		t.Fatalf("Open after retiring = %q, %v", got, err)
	}
	if _, err := Generate().Open(a); err == nil {
		t.Error("another keyring opened the value")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "pii-keys.json")
	k := Generate().Rotated()
	if err := Save(path, k); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.Current() != 2 || len(l.IDs()) != 2 || l.Index("a") != k.Index("a") {
		t.Fatalf("loaded keyring differs: current %d, ids %v", l.Current(), l.IDs())
	}
	if got, err := l.Open(k.Seal("13812345678")); err != nil || got != "13812345678" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for _, bad := range []string{`{}`, `not json`, `{"index_key":"` + strings.Repeat("A", 44) + `","current":3,"keys":{}}`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted a broken key file", bad)
		}
	}
}
