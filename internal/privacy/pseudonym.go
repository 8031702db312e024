package privacy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"sync"
	"sync/atomic"
)

// Kinds of identifier. The kind is the pseudonym's prefix and part of what
// is hashed, so one number typed as a phone and as a national id gives two
// unrelated pseudonyms.
const (
	KindPhone      = "c" // a citizen's phone number, E.164
	KindNationalID = "n" // cédula or RUC, digits only
	KindEmail      = "e" // an e-mail address (Email values lower-case it first)
)

// MinKeyLen is the shortest key NewPseudonymizer accepts: the strength of
// HMAC-SHA256 is bounded by its key, and phone numbers are few enough to be
// enumerated, so a short key would let anyone reverse the pseudonyms.
const MinKeyLen = 32

// hashLen is how many bytes of the MAC a pseudonym keeps: 8 bytes (16 hex
// digits) make an accidental collision between two of Ecuador's ~20 million
// phone numbers unlikely (about 1 in 100,000), where 6 bytes would make one
// likely.
const hashLen = 8

// ErrShortKey is returned by NewPseudonymizer for a key under MinKeyLen.
var ErrShortKey = errors.New("privacy: pseudonym key shorter than 32 bytes")

// Pseudonymizer turns identifiers into stable pseudonyms: the same kind and
// value give the same pseudonym under the same key, and without the key a
// pseudonym cannot be linked to its value nor to pseudonyms made under
// another key. It is safe for concurrent use.
type Pseudonymizer struct {
	pool sync.Pool // of *macState; hmac.New costs more than the hash
}

type macState struct {
	mac hash.Hash
	msg []byte
	sum [sha256.Size]byte
}

// NewPseudonymizer returns a Pseudonymizer keyed with key, which must be at
// least MinKeyLen bytes of secret, random material (for example the bytes
// of `openssl rand -base64 48` as they are). The key is copied.
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) < MinKeyLen {
		return nil, ErrShortKey
	}
	k := append([]byte(nil), key...)
	p := &Pseudonymizer{}
	p.pool.New = func() any {
		return &macState{mac: hmac.New(sha256.New, k), msg: make([]byte, 0, 64)}
	}
	return p, nil
}

// NewEphemeralPseudonymizer returns a Pseudonymizer with a random key that
// lives only in this process: pseudonyms correlate within one run and can
// never be reversed or linked to another run's. It suits development and
// tests, not an audit trail that must outlive a restart.
func NewEphemeralPseudonymizer() *Pseudonymizer {
	key := make([]byte, MinKeyLen)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (it crashes instead)
	p, _ := NewPseudonymizer(key)
	return p
}

// ID returns the pseudonym of value as an identifier of the given kind:
// kind, an underscore and 16 lower-case hex digits ("c_3f9a1c2e7b5d4a10").
// It hashes value exactly as given, so callers normalise first (E.164 for
// phones, digits only for national ids). An empty value has no pseudonym:
// ID returns "", so that citizens without a number are not all lumped
// under one pseudonym.
func (p *Pseudonymizer) ID(kind, value string) string {
	if value == "" {
		return ""
	}
	var digits [2 * hashLen]byte
	p.digest(digits[:], kind, value)
	var b strings.Builder
	b.Grow(len(kind) + 1 + len(digits))
	b.WriteString(kind)
	b.WriteByte('_')
	b.Write(digits[:])
	return b.String()
}

// keyLen is how many bytes of the MAC a KeyID keeps: where a pseudonym's
// rare collision merges two citizens' log lines, a key's would let one
// citizen read another's records, so it gets 128 bits.
const keyLen = 16

// KindKey is the kind hashed into a KeyID, so that a store key never
// equals the citizen's pseudonym in logs.
const KindKey = "k"

// KeyID names value in a store's key space (a Redis key): the first 128
// bits of HMAC-SHA256(key, "k" ‖ 0x00 ‖ value) as 32 lower-case hex
// digits. Like a pseudonym, it cannot be linked to the value without the
// key. An empty value gives "".
func (p *Pseudonymizer) KeyID(value string) string {
	if value == "" {
		return ""
	}
	var digits [2 * keyLen]byte
	p.digest(digits[:], KindKey, value)
	return string(digits[:])
}

// digest fills dst with the hex digits of the first len(dst)/2 bytes of
// the MAC of kind, NUL, value.
func (p *Pseudonymizer) digest(dst []byte, kind, value string) {
	st := p.pool.Get().(*macState)
	// kind, NUL, value: the NUL keeps ("c1", "23") apart from ("c", "123").
	st.msg = append(append(append(st.msg[:0], kind...), 0), value...)
	st.mac.Reset()
	st.mac.Write(st.msg)
	sum := st.mac.Sum(st.sum[:0])
	hex.Encode(dst, sum[:len(dst)/2])
	if cap(st.msg) <= 1024 { // do not keep a huge buffer alive in the pool
		p.pool.Put(st)
	}
}

// IsPseudonym reports whether s has the shape of a pseudonym made by ID
// with a kind of one to three lower-case letters.
func IsPseudonym(s string) bool {
	i := strings.IndexByte(s, '_')
	if i < 1 || i > 3 || len(s) != i+1+2*hashLen {
		return false
	}
	for j := 0; j < i; j++ {
		if s[j] < 'a' || s[j] > 'z' {
			return false
		}
	}
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

var defaultPseudonymizer atomic.Pointer[Pseudonymizer]

// SetDefault installs the Pseudonymizer that Phone, NationalID and Email
// values use when they are logged outside a handler made by NewHandler.
// nil removes it; those values then log as "[redacted …]". The binary logs
// through NewHandler and leaves the default unset; SetDefault is for
// programs that log through handlers of their own.
func SetDefault(p *Pseudonymizer) { defaultPseudonymizer.Store(p) }

// Default returns the Pseudonymizer installed by SetDefault, or nil.
func Default() *Pseudonymizer { return defaultPseudonymizer.Load() }
