package atsms

import (
	"strings"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
)

const (
	// maxBody bounds a callback body: 1600 characters of text, percent
	// encoded, and a handful of short fields.
	maxBody = 16 << 10
	// MaxText is the longest message taken or sent, in characters: ten
	// concatenated parts, which operators reassemble before AT calls us.
	MaxText = 1600
	// maxID bounds AT's message ids and linkIds; they end up in idempotency
	// keys and logs.
	maxID = 128
)

// id checks one of AT's ids: printable ASCII without spaces, bounded.
func id(name, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return "", &wire.FieldError{Field: name, Reason: "missing"}
	case len(s) > maxID || !wire.VisibleASCII(s):
		return "", &wire.FieldError{Field: name, Reason: "not an id"}
	}
	return s, nil
}
