package privacy_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/privacy"
)

var testKey = []byte("0123456789abcdef0123456789abcdef-test-key")

func newTestPseudonymizer(t testing.TB) *privacy.Pseudonymizer {
	t.Helper()
	p, err := privacy.NewPseudonymizer(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewPseudonymizerRefusesShortKeys(t *testing.T) {
	for _, n := range []int{0, 1, 16, 31} {
		if _, err := privacy.NewPseudonymizer(make([]byte, n)); !errors.Is(err, privacy.ErrShortKey) {
			t.Errorf("key of %d bytes: err = %v, want ErrShortKey", n, err)
		}
	}
	if _, err := privacy.NewPseudonymizer(make([]byte, 32)); err != nil {
		t.Errorf("key of 32 bytes: %v", err)
	}
}

var pseudonymShape = regexp.MustCompile(`^[a-z]_[0-9a-f]{16}$`)

func TestIDIsStableShortAndKeyed(t *testing.T) {
	p := newTestPseudonymizer(t)
	got := p.ID(privacy.KindPhone, "+593991234567")
	if !pseudonymShape.MatchString(got) || !strings.HasPrefix(got, "c_") {
		t.Fatalf("ID = %q, want c_ and 16 hex digits", got)
	}
	if again := p.ID(privacy.KindPhone, "+593991234567"); again != got {
		t.Errorf("same input, different pseudonyms: %q, %q", got, again)
	}
	if !privacy.IsPseudonym(got) {
		t.Errorf("IsPseudonym(%q) = false", got)
	}

	// Reproducible by anyone holding the key: HMAC-SHA256(key, kind NUL
	// value), first 8 bytes in hex. A data subject's request is answered
	// by computing this and searching the audit trail for it.
	mac := hmac.New(sha256.New, testKey)
	mac.Write([]byte("c\x00+593991234567"))
	if want := "c_" + hex.EncodeToString(mac.Sum(nil)[:8]); got != want {
		t.Errorf("ID = %q, want %q", got, want)
	}

	other, _ := privacy.NewPseudonymizer([]byte("another key, just as long as the first one"))
	if o := other.ID(privacy.KindPhone, "+593991234567"); o == got {
		t.Errorf("two keys gave one pseudonym %q", o)
	}
	if n := p.ID(privacy.KindNationalID, "+593991234567"); n[2:] == got[2:] {
		t.Errorf("kinds are not separated: %q and %q", n, got)
	}
	if a, b := p.ID("c1", "23"), p.ID("c", "123"); a[strings.IndexByte(a, '_'):] == b[2:] {
		t.Errorf("kind and value run together: %q, %q", a, b)
	}
	if e := p.ID(privacy.KindPhone, ""); e != "" {
		t.Errorf("ID of empty value = %q, want \"\"", e)
	}
}

func TestIDConcurrent(t *testing.T) {
	p := newTestPseudonymizer(t)
	want := p.ID(privacy.KindNationalID, "1714307103")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if got := p.ID(privacy.KindNationalID, "1714307103"); got != want {
					t.Errorf("ID = %q, want %q", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestEphemeralPseudonymizer(t *testing.T) {
	a, b := privacy.NewEphemeralPseudonymizer(), privacy.NewEphemeralPseudonymizer()
	x := a.ID(privacy.KindPhone, "+593991234567")
	if x != a.ID(privacy.KindPhone, "+593991234567") {
		t.Error("ephemeral pseudonyms are not stable within the process")
	}
	if x == b.ID(privacy.KindPhone, "+593991234567") {
		t.Error("two ephemeral keys gave one pseudonym")
	}
}

func TestIsPseudonym(t *testing.T) {
	for s, want := range map[string]bool{
		"c_3f9a1c2e7b5d4a10":   true,
		"ab_3f9a1c2e7b5d4a10":  true,
		"c_3f9a1c2e7b5d":       false, // short
		"c_3F9A1C2E7B5D4A10":   false, // upper case
		"C_3f9a1c2e7b5d4a10":   false,
		"abcd_3f9a1c2e7b5d4a1": false,
		"_3f9a1c2e7b5d4a10ab":  false,
		"+593991234567":        false,
		"":                     false,
	} {
		if got := privacy.IsPseudonym(s); got != want {
			t.Errorf("IsPseudonym(%q) = %v, want %v", s, got, want)
		}
	}
}

func BenchmarkID(b *testing.B) {
	p := newTestPseudonymizer(b)
	b.ReportAllocs()
	for b.Loop() {
		p.ID(privacy.KindPhone, "+593991234567")
	}
}

func BenchmarkIDParallel(b *testing.B) {
	p := newTestPseudonymizer(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.ID(privacy.KindPhone, "+593991234567")
		}
	})
}

// A store key is 128 bits, stable under one key, different under
// another, and never the citizen's pseudonym.
func TestKeyID(t *testing.T) {
	a, _ := privacy.NewPseudonymizer([]byte(strings.Repeat("a", privacy.MinKeyLen)))
	b, _ := privacy.NewPseudonymizer([]byte(strings.Repeat("b", privacy.MinKeyLen)))
	const phone = "+593991234567"
	k := a.KeyID(phone)
	if len(k) != 32 || strings.Trim(k, "0123456789abcdef") != "" {
		t.Fatalf("KeyID %q: want 32 lower-case hex digits", k)
	}
	if k != a.KeyID(phone) || k == b.KeyID(phone) || k == a.KeyID("+593991234568") {
		t.Error("KeyID must be stable under one key and differ across keys and values")
	}
	if strings.Contains(a.ID(privacy.KindPhone, phone), k[:16]) {
		t.Error("KeyID shares digits with the phone pseudonym")
	}
	if a.KeyID("") != "" {
		t.Error("KeyID of nothing must be empty")
	}
}
