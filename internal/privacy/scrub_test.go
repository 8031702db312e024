package privacy_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/privacy"
)

// identifiers are personal data and secrets in the shapes they reach logs
// in: what Scrub and the handler must never let through. secret is the
// part that must not survive (the whole input when empty).
var identifiers = []struct {
	name, in, secret string
}{
	{"phone E.164", "+593991234567", ""},
	{"phone national", "0991234567", ""},
	{"phone without plus", "593991234567", ""},
	{"phone spaced", "+593 99 123 4567", "123 4567"},
	{"phone national spaced", "099 123 4567", "123 4567"},
	{"phone dashed", "099-123-4567", "123-4567"},
	{"landline with area code", "(02) 234-5678", "234-5678"},
	{"landline local", "llame al 2345678", "2345678"},
	{"phone in an error", `back-end: no citizen with phone +593991234567 (404)`, "991234567"},
	{"phone glued to a word", "tel0991234567", "0991234567"},
	{"phone in a store key", "ussd:+593991234567", "991234567"},
	{"phone in a URL", "https://api.example.gob.ec/v1/citizens/0991234567/appointments", "0991234567"},
	{"cedula", "1714307103", ""},
	{"cedula with check digit dash", "171430710-3", "171430710"},
	{"cedula in JSON", `{"cedula":"1714307103","office":"quito"}`, "1714307103"},
	{"cedula as JSON number", `{"cedula":1714307103}`, "1714307103"},
	{"cedula in a sentence", "La cédula 0926687856 no consta.", "0926687856"},
	{"cedula in a USSD trail", "1*2*0926687856", "0926687856"},
	{"X-Road user id", "EC1714307103", "1714307103"},
	{"RUC", "1790011674001", ""},
	{"RUC in text", "RUC 1790011674001 inactivo", "1790011674001"},
	{"email", "ana.perez@example.com", "ana.perez"},
	{"email in text", "enviado a <ana.perez+citas@correo.gob.ec>.", "ana.perez+citas"},
	{"bearer JWT", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxNzE0MzA3MTAzIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "eyJ"},
	{"authorization header", "Authorization: Bearer abc.def.ghi", "abc.def"},
	{"basic credentials", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"},
	{"bare JWT", "token expired: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJ"},
	{"api key header", "X-Api-Key: 9f86d081884c7d659a2feaa0c55ad015", "9f86d081"},
	{"token in a query", "GET /v1/slots?office=quito&token=s3cr3t-t0k3n&page=2", "s3cr3t"},
	{"password in JSON", `{"user":"ventanilla","password":"hunter2"}`, "hunter2"},
	{"secret in env style", "AT_CALLBACK_TOKEN=Zt7fQ2lLw9", "Zt7fQ2lLw9"},
	{"sha256 digest", "digest 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "9f86d081884c7d659a2f"},
	{"telegram bot token", `Post "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getUpdates": EOF`, "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"},
	{"random base64 key", "key rejected: Zm9vYmFyYmF6cXV4UXV1eFp5enp5MTIzNDU2", "Zm9vYmFy"},
}

// benign values must come through Scrub unchanged: logs are still for
// running the service.
var benign = []string{
	"turnos@3",
	"ask_cedula",
	"renovacion-cedula-identidad",
	"estado-tramite",
	"*384#",
	"*384*2#",
	"200",
	"503",
	"HTTP 502 Bad Gateway",
	"4s",
	"1.234567891s",
	"312.5ms",
	"2026-11-23",
	"2026-11-24T09:00:00Z",
	"2026-11-24 09:00:00.123 -0500 -05",
	"2026-11-24 09:00:00 -0500 -05",
	"audit-2026-11-23.jsonl",
	"africastalking",
	"127.0.0.1:8080",
	"dial tcp 10.0.0.12:443: connect: connection refused",
	"context deadline exceeded",
	"9b2f3c1e-7d4a-4f0b-8e6c-2a1d5f3b9c07",
	"c_3f9a1c2e7b5d4a10",
	`flows/turnos.yaml:14:7: steps.confirm.next: unknown step "confrim" (did you mean "confirm"?)`,
	"invalid character '}' looking for beginning of value",
	"Server.ClientProxy.SslAuthenticationFailed",
	"basic validation failed",
	"session expired after 180s",
	"retry 3 of 4",
	"options 1 2 3 4 5 6 7",
	"go1.26.8",
	"v1.2.3",
	"HTTP/1.1 404 Not Found",
	"ventanilla_hop_duration_seconds",
	"1,240 bytes",
	"no slots between 09:00 and 12:30",
	"",
}

var digitRun = regexp.MustCompile(`[0-9]{7,}`)

// publicDigits are identifiers whose 7+ digit runs are no one's data: a
// bot's id is public, its token is the secret.
var publicDigits = map[string]bool{"telegram bot token": true}

func TestScrubHidesIdentifiers(t *testing.T) {
	for _, tt := range identifiers {
		t.Run(tt.name, func(t *testing.T) {
			got := privacy.Scrub(tt.in)
			secret := tt.secret
			if secret == "" {
				secret = tt.in
			}
			if strings.Contains(got, secret) {
				t.Errorf("Scrub(%q) = %q: %q survived", tt.in, got, secret)
			}
			if r := digitRun.FindString(got); r != "" && !publicDigits[tt.name] {
				t.Errorf("Scrub(%q) = %q: digit run %q survived", tt.in, got, r)
			}
		})
	}
}

func TestScrubKeepsBenignText(t *testing.T) {
	for _, in := range benign {
		if got := privacy.Scrub(in); got != in {
			t.Errorf("Scrub(%q) = %q, want it unchanged", in, got)
		}
	}
}

func TestScrubPlaceholders(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"no citizen +593991234567", "no citizen [phone]"},
		{"cédula 1714307103 no consta", "cédula [cedula] no consta"},
		{"RUC 1790011674001", "RUC [ruc]"},
		{"llamar al 0991234567", "llamar al [phone]"},
		{"ref 1234567890", "ref [number]"},
		{"a ana@example.com y luis@example.org", "a [email] y [email]"},
		{"Authorization: Bearer abc123", "Authorization: Bearer [token]"},
		{`{"password":"hunter2","user":"x"}`, `{"password":"[token]","user":"x"}`},
		{"slot 2026-11-24 for 1714307103", "slot 2026-11-24 for [cedula]"},
	} {
		if got := privacy.Scrub(tt.in); got != tt.want {
			t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestScrubDoesNotAllocateForCleanText(t *testing.T) {
	s := `flows/turnos.yaml:14:7: steps.confirm.next: unknown step "confrim"`
	if n := testing.AllocsPerRun(100, func() { privacy.Scrub(s) }); n != 0 {
		t.Errorf("Scrub of clean text: %v allocations, want 0", n)
	}
}

var tenDigits = regexp.MustCompile(`[0-9]{10,}`)

func FuzzScrub(f *testing.F) {
	for _, tt := range identifiers {
		f.Add(tt.in)
	}
	for _, s := range benign {
		f.Add(s)
	}
	f.Add("+1 (415) 555-2671 x 1714307103-001 a@b.co eyJ0eXAi")
	f.Fuzz(func(t *testing.T, s string) {
		got := privacy.Scrub(s)
		if r := tenDigits.FindString(got); r != "" {
			t.Errorf("Scrub(%q) = %q: kept the digit run %q", s, got, r)
		}
		if again := privacy.Scrub(got); again != got {
			t.Errorf("Scrub is not idempotent: %q → %q → %q", s, got, again)
		}
	})
}

func BenchmarkScrub(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"clean", `hop failed: calling "turnos.slots": context deadline exceeded after 4s`},
		{"dirty", `back-end 404: {"error":"no citizen","cedula":"1714307103","phone":"+593991234567","token":"abc"}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				privacy.Scrub(bc.in)
			}
		})
	}
}
