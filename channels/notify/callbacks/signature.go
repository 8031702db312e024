package callbacks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of a callback:
//
//	Ventanilla-Signature: t=1767225600,v1=5257a869…
//
// t is when it was signed (unix seconds) and v1 the hex HMAC-SHA256, keyed
// with the institution's secret, of the text t, a dot and the raw body.
// Stripe's scheme: the timestamp is signed with the body, so an old
// request cannot be replayed with a fresh time.
const SignatureHeader = "Ventanilla-Signature"

// EventHeader repeats the event's id, for an institution that dedupes
// before it reads the body.
const EventHeader = "Ventanilla-Event-Id"

// DefaultTolerance is how old a signature Verify accepts.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("callbacks: no signature")
	ErrBadSignature = errors.New("callbacks: signature does not match")
	ErrOldSignature = errors.New("callbacks: signature timestamp outside the tolerance")
)

// Sign returns the value of SignatureHeader for body, signed at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Verify checks a callback as an institution receives it: header is the
// value of SignatureHeader, body the raw body read (before any JSON
// decoding), now the receiver's clock. A signature older or newer than
// tolerance (DefaultTolerance when 0) is refused, whatever its v1: a
// request captured and sent again later does not verify. Within the
// tolerance, the event id dedupes a repeat. Several v1 values (during a
// change of secret) are accepted when one matches.
func Verify(header string, body, secret []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: t=%q is not unix seconds", ErrNoSignature, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrOldSignature
	}
	want := []byte(mac(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return ErrBadSignature
}
