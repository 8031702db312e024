package privacy

import (
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Values that log redacted. Wrap personal data in them where it is logged:
//
//	log.Info("hop", "citizen", privacy.Phone(in.Phone), "input", privacy.Text(in.Input))
//
// Phone, NationalID and Email log as a pseudonym (KindPhone, KindNationalID,
// KindEmail) under the handler's Pseudonymizer or the default one, and as
// "[redacted phone]" and the like when there is none: even the last digits
// of a number narrow it down to a few thousand people, and a pseudonym
// correlates hops better anyway. Token and Text never log their content.
// There is a type for every kind of personal data, including those the
// gateway does not log today, so that new log lines have one to use.
type (
	Phone      string // E.164 phone number
	NationalID string // cédula or RUC
	Email      string // e-mail address
	Token      string // a secret: password, API key, bearer token, session token
	Text       string // free text a citizen typed: logs its length only
)

// Placeholders for values that are redacted without a pseudonym.
const (
	RedactedPhone      = "[redacted phone]"
	RedactedNationalID = "[redacted national id]"
	RedactedEmail      = "[redacted email]"
	RedactedToken      = "[redacted token]"
)

// LogValue is the pseudonym of the number, or RedactedPhone.
func (v Phone) LogValue() slog.Value {
	return pseudonymValue(Default(), KindPhone, string(v))
}

// LogValue is the pseudonym of the id, or RedactedNationalID.
func (v NationalID) LogValue() slog.Value {
	return pseudonymValue(Default(), KindNationalID, string(v))
}

// LogValue is the pseudonym of the lower-cased address, or RedactedEmail.
func (v Email) LogValue() slog.Value {
	return pseudonymValue(Default(), KindEmail, string(v))
}

// LogValue is RedactedToken, or "" for no token.
func (v Token) LogValue() slog.Value { return slog.StringValue(tokenString(string(v))) }

// LogValue is the length of the text: "[redacted text, 12 chars]".
func (v Text) LogValue() slog.Value { return slog.StringValue(textString(string(v))) }

var (
	_ slog.LogValuer = Phone("")
	_ slog.LogValuer = NationalID("")
	_ slog.LogValuer = Email("")
	_ slog.LogValuer = Token("")
	_ slog.LogValuer = Text("")
)

func pseudonymValue(p *Pseudonymizer, kind, v string) slog.Value {
	return slog.StringValue(pseudonym(p, kind, v))
}

// pseudonym is what an identifier of the kind logs as. An empty value logs
// as "" so that a missing number is told apart from a hidden one.
func pseudonym(p *Pseudonymizer, kind, v string) string {
	switch {
	case v == "":
		return ""
	case p != nil && kind == KindEmail:
		return p.ID(kind, strings.ToLower(v))
	case p != nil:
		return p.ID(kind, v)
	}
	switch kind {
	case KindPhone:
		return RedactedPhone
	case KindNationalID:
		return RedactedNationalID
	case KindEmail:
		return RedactedEmail
	}
	return "[redacted]"
}

func tokenString(v string) string {
	if v == "" {
		return ""
	}
	return RedactedToken
}

// textString keeps the length of free text: enough to tell "nothing typed"
// from "pasted a paragraph", nothing of what was typed.
func textString(v string) string {
	return "[redacted text, " + strconv.Itoa(utf8.RuneCountInString(v)) + " chars]"
}
