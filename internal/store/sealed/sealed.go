// Package sealed keeps personal data (document and phone numbers)
// encrypted at rest: a keyring of AES-256-GCM keys seals values, each
// ciphertext tagged with the ID of the key that sealed it so keys can
// rotate, and a separate HMAC-SHA256 key gives the blind index that
// lookups and unique rules use in place of the plain value. Both storage
// engines share it; the domain never sees a sealed value.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// prefix starts every sealed value: "pii1:<key ID>:<base64url(nonce‖ciphertext‖tag)>".
const prefix = "pii1:"

// aad binds every ciphertext to its purpose, so nothing else sealed with
// the same key opens as personal data.
var aad = []byte("piao personal data")

// Keyring holds the encryption keys by ID (the newest seals, every one
// opens) and the index key. It is safe for concurrent use once built.
type Keyring struct {
	current uint32
	aeads   map[uint32]cipher.AEAD
	raw     map[uint32][]byte
	index   []byte
}

// file is the key file's JSON form.
type file struct {
	// Index is the HMAC-SHA256 key of the blind index, base64 (32 bytes).
	Index string `json:"index_key"`
	// Current is the ID of the key that seals new values.
	Current uint32 `json:"current"`
	// Keys are the AES-256 keys by ID, base64 (32 bytes each).
	Keys map[string]string `json:"keys"`
}

// Generate returns a new keyring with one fresh encryption key (ID 1) and
// a fresh index key.
func Generate() *Keyring {
	k := &Keyring{index: random(32), aeads: map[uint32]cipher.AEAD{}, raw: map[uint32][]byte{}}
	k.add(1, random(32))
	k.current = 1
	return k
}

func random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

func (k *Keyring) add(id uint32, key []byte) {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // key is always 32 bytes here
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	k.aeads[id], k.raw[id] = aead, key
}

// Parse reads a key file's contents (see Marshal).
func Parse(data []byte) (*Keyring, error) {
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("personal-data keys: not a key file: %w", err)
	}
	index, err := base64.StdEncoding.DecodeString(f.Index)
	if err != nil || len(index) < 32 {
		return nil, errors.New("personal-data keys: index_key must be 32 bytes, base64")
	}
	k := &Keyring{current: f.Current, index: index, aeads: map[uint32]cipher.AEAD{}, raw: map[uint32][]byte{}}
	for sid, skey := range f.Keys {
		id, err := strconv.ParseUint(sid, 10, 32)
		key, kerr := base64.StdEncoding.DecodeString(skey)
		if err != nil || id == 0 || kerr != nil || len(key) != 32 {
			return nil, fmt.Errorf("personal-data keys: key %q must have a positive numeric ID and 32 bytes, base64", sid)
		}
		k.add(uint32(id), key)
	}
	if k.aeads[k.current] == nil {
		return nil, fmt.Errorf("personal-data keys: the current key %d is not among the keys", k.current)
	}
	return k, nil
}

// Marshal returns the key file's contents: JSON with index_key, current
// and keys (ID → base64 AES-256 key).
func (k *Keyring) Marshal() []byte {
	f := file{Index: base64.StdEncoding.EncodeToString(k.index), Current: k.current, Keys: map[string]string{}}
	for id, key := range k.raw {
		f.Keys[strconv.FormatUint(uint64(id), 10)] = base64.StdEncoding.EncodeToString(key)
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	return append(b, '\n')
}

// Current is the ID of the key that seals new values.
func (k *Keyring) Current() uint32 { return k.current }

// IDs lists the IDs of the keys that open values, in order.
func (k *Keyring) IDs() []uint32 { return slices.Sorted(maps.Keys(k.aeads)) }

// Rotated returns a copy of the keyring with a fresh key, newer than every
// other, that seals from now on; the older keys still open.
func (k *Keyring) Rotated() *Keyring {
	n := k.clone()
	id := slices.Max(k.IDs()) + 1
	n.add(id, random(32))
	n.current = id
	return n
}

// Retired returns a copy of the keyring with only its current key: what
// remains once every value is sealed with it.
func (k *Keyring) Retired() *Keyring {
	n := &Keyring{current: k.current, index: k.index, aeads: map[uint32]cipher.AEAD{}, raw: map[uint32][]byte{}}
	n.add(k.current, k.raw[k.current])
	return n
}

func (k *Keyring) clone() *Keyring {
	n := &Keyring{current: k.current, index: k.index, aeads: maps.Clone(k.aeads), raw: maps.Clone(k.raw)}
	return n
}

// Seal encrypts a value with the current key and a random nonce. The
// empty value stays empty (nothing to hide, and optional fields stay
// recognisably unset).
func (k *Keyring) Seal(plain string) string {
	if plain == "" {
		return ""
	}
	aead := k.aeads[k.current]
	nonce := random(aead.NonceSize())
	out := aead.Seal(nonce, nonce, []byte(plain), aad)
	return prefix + strconv.FormatUint(uint64(k.current), 10) + ":" + base64.RawURLEncoding.EncodeToString(out)
}

// ErrNotSealed is Open's answer for a value that is not a sealed value.
var ErrNotSealed = errors.New("not a sealed value")

// Open decrypts a value Seal made with any key of the keyring; the empty
// value opens as empty.
func (k *Keyring) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	id, body, ok := split(sealed)
	if !ok {
		return "", ErrNotSealed
	}
	aead := k.aeads[id]
	if aead == nil {
		return "", fmt.Errorf("sealed with key %d, which the keyring does not hold (rotated away? wrong key file?)", id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", ErrNotSealed
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], aad)
	if err != nil {
		return "", fmt.Errorf("open sealed value with key %d: %w (wrong key file?)", id, err)
	}
	return string(plain), nil
}

// KeyOf is the ID of the key that sealed a value (0 if it is not sealed).
func KeyOf(sealed string) uint32 {
	id, _, _ := split(sealed)
	return id
}

func split(sealed string) (uint32, string, bool) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return 0, "", false
	}
	sid, body, ok := strings.Cut(rest, ":")
	id, err := strconv.ParseUint(sid, 10, 32)
	if !ok || err != nil {
		return 0, "", false
	}
	return uint32(id), body, true
}

// Reseal opens a value and seals it again with the current key; a value
// already sealed with it is returned as is (changed false).
func (k *Keyring) Reseal(sealed string) (string, bool, error) {
	if sealed == "" || KeyOf(sealed) == k.current {
		return sealed, false, nil
	}
	plain, err := k.Open(sealed)
	if err != nil {
		return "", false, err
	}
	return k.Seal(plain), true, nil
}

// Index is the blind index of a value: HMAC-SHA256 under the index key,
// base64url. Equal values have equal indexes, so lookups and unique rules
// work on it; it does not reveal the value. Callers prefix the value with
// its kind ("phone:", "id_card:") so equal text of different kinds does
// not collide. The empty value's index is empty.
func (k *Keyring) Index(plain string) string {
	if plain == "" {
		return ""
	}
	m := hmac.New(sha256.New, k.index)
	m.Write([]byte(plain))
	return "ix:" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
