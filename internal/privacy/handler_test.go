package privacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/privacy"
)

func jsonLogger(p *privacy.Pseudonymizer) (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	// No time: its nanoseconds are a digit run of their own.
	noTime := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	return slog.New(privacy.NewHandler(slog.NewJSONHandler(&buf, noTime), p)), &buf
}

// lines decodes the JSON lines logged so far.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestHandlerHidesIdentifiers(t *testing.T) {
	p := newTestPseudonymizer(t)
	for _, tt := range identifiers {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := jsonLogger(p)
			log.Error("back-end said: "+tt.in,
				"err", errors.New(tt.in),
				"detail", tt.in,
				slog.Group("call", "service", "turnos.slots", "response", tt.in),
				"any", struct{ Body string }{tt.in},
			)
			log.With("reason", tt.in).WithGroup("g").Warn("x", "value", tt.in)
			secret := tt.secret
			if secret == "" {
				secret = tt.in
			}
			out := buf.String()
			if strings.Contains(out, secret) || strings.Contains(out, jsonEscape(secret)) {
				t.Errorf("%q survived in\n%s", secret, out)
			}
			if r := digitRun.FindString(out); r != "" && !publicDigits[tt.name] {
				t.Errorf("digit run %q survived in\n%s", r, out)
			}
		})
	}
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func TestHandlerRedactsSensitiveKeysWholesale(t *testing.T) {
	p := newTestPseudonymizer(t)
	log, buf := jsonLogger(p)
	log.Info("hop",
		"phone", "+593991234567",
		"msisdn", "593991234567",
		"phoneNumber", "0991234567",
		"cedula", "1714307103",
		"national_id", 1714307103,
		"ruc", "1790011674001",
		"email", "Ana.Perez@example.com",
		"text", "mi cédula es 1714307103",
		"input", "1*2*3",
		"token", "s3cr3t",
		"Authorization", "Bearer abc",
		"x-api-key", "k",
		"password", "hunter2",
		"cedula_valid", true,
		"token_ttl", 90*time.Second,
	)
	got := lines(t, buf)[0]
	want := map[string]any{
		"phone":         p.ID(privacy.KindPhone, "+593991234567"),
		"msisdn":        p.ID(privacy.KindPhone, "593991234567"),
		"phoneNumber":   p.ID(privacy.KindPhone, "0991234567"),
		"cedula":        p.ID(privacy.KindNationalID, "1714307103"),
		"national_id":   p.ID(privacy.KindNationalID, "1714307103"),
		"ruc":           p.ID(privacy.KindNationalID, "1790011674001"),
		"email":         p.ID(privacy.KindEmail, "ana.perez@example.com"),
		"text":          "[redacted text, 23 chars]",
		"input":         "[redacted text, 5 chars]",
		"token":         privacy.RedactedToken,
		"Authorization": privacy.RedactedToken,
		"x-api-key":     privacy.RedactedToken,
		"password":      privacy.RedactedToken,
		"cedula_valid":  true,
		"token_ttl":     float64(90 * time.Second),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}

func TestHandlerWithoutPseudonymizer(t *testing.T) {
	privacy.SetDefault(nil)
	log, buf := jsonLogger(nil)
	log.Info("hop", "phone", "+593991234567", "cedula", "1714307103", "citizen", privacy.Phone("+593991234567"))
	got := lines(t, buf)[0]
	for k, w := range map[string]string{
		"phone": privacy.RedactedPhone, "cedula": privacy.RedactedNationalID, "citizen": privacy.RedactedPhone,
	} {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}

func TestHandlerKeepsBenignValues(t *testing.T) {
	p := newTestPseudonymizer(t)
	log, buf := jsonLogger(p)
	citizen := p.ID(privacy.KindPhone, "+593991234567")
	log.Info("hop done",
		"carrier", "africastalking",
		"flow", "turnos@3",
		"step", "ask_cedula",
		"outcome", "not_found",
		"status", 503,
		"elapsed", 1234*time.Millisecond,
		"code", "*384#",
		"attempts", 3,
		"cached", true,
		"citizen", citizen,
		"correlation_id", "550e8400-e29b-41d4-a716-446655440000",
		"err", errors.New(`calling "turnos.slots": context deadline exceeded`),
		"at", time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
	)
	got := lines(t, buf)[0]
	for k, w := range map[string]any{
		"msg":            "hop done",
		"carrier":        "africastalking",
		"flow":           "turnos@3",
		"step":           "ask_cedula",
		"outcome":        "not_found",
		"status":         float64(503),
		"elapsed":        float64(1234 * time.Millisecond),
		"code":           "*384#",
		"attempts":       float64(3),
		"cached":         true,
		"citizen":        citizen,
		"correlation_id": "550e8400-e29b-41d4-a716-446655440000",
		"err":            `calling "turnos.slots": context deadline exceeded`,
		"at":             "2026-11-23T09:00:00Z",
	} {
		if got[k] != w {
			t.Errorf("%s = %v (%T), want %v", k, got[k], got[k], w)
		}
	}
}

func TestHandlerGroupsAndWithAttrs(t *testing.T) {
	p := newTestPseudonymizer(t)
	log, buf := jsonLogger(p)
	pseudonym := p.ID(privacy.KindPhone, "+593991234567")

	// A group named after personal data redacts all it holds.
	log.WithGroup("phone").Info("a", "number", "+593991234567")
	log.Info("b", slog.Group("citizen", slog.String("phone", "+593991234567"), slog.String("flow", "turnos")))
	log.With("phone", "+593991234567").With(slog.Group("req", "cedula", "1714307103")).Info("c", "step", "confirm")
	log.WithGroup("auth").With("user", "ventanilla").Info("d", slog.Group("inner", "x", "y"))
	log.Info("e", slog.Group("", "phone", "+593991234567")) // an inlined group

	l := lines(t, buf)
	if got := l[0]["phone"].(map[string]any)["number"]; got != pseudonym {
		t.Errorf("WithGroup(phone): number = %v, want %v", got, pseudonym)
	}
	c := l[1]["citizen"].(map[string]any)
	if c["phone"] != pseudonym || c["flow"] != "turnos" {
		t.Errorf("Group(citizen) = %v", c)
	}
	if l[2]["phone"] != pseudonym || l[2]["req"].(map[string]any)["cedula"] != p.ID(privacy.KindNationalID, "1714307103") || l[2]["step"] != "confirm" {
		t.Errorf("With: %v", l[2])
	}
	auth := l[3]["auth"].(map[string]any)
	if auth["user"] != privacy.RedactedToken || auth["inner"].(map[string]any)["x"] != privacy.RedactedToken {
		t.Errorf("WithGroup(auth) = %v", auth)
	}
	if l[4]["phone"] != pseudonym {
		t.Errorf("inlined group: %v", l[4])
	}
}

// loudValuer is a LogValuer someone wrote without thinking of privacy.
type loudValuer struct{ phone string }

func (v loudValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("who", v.phone), slog.String("flow", "turnos"))
}

func TestHandlerResolvesForeignLogValuers(t *testing.T) {
	p := newTestPseudonymizer(t)
	log, buf := jsonLogger(p)
	log.Info("x", "call", loudValuer{"+593991234567"}, "n", fmt.Stringer(stringer("ci 1714307103")))
	out := buf.String()
	if strings.Contains(out, "991234567") || strings.Contains(out, "1714307103") {
		t.Errorf("leaked: %s", out)
	}
	if !strings.Contains(out, `"flow":"turnos"`) {
		t.Errorf("lost the benign part: %s", out)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestLogValuersUseDefaultPseudonymizer(t *testing.T) {
	t.Cleanup(func() { privacy.SetDefault(nil) })
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil)) // no privacy handler: the values alone
	privacy.SetDefault(nil)
	log.Info("x", "p", privacy.Phone("+593991234567"), "n", privacy.NationalID("1714307103"),
		"e", privacy.Email("a@b.ec"), "t", privacy.Token("s3cr3t"), "x", privacy.Text("hola"), "none", privacy.Phone(""))
	p := newTestPseudonymizer(t)
	privacy.SetDefault(p)
	log.Info("y", "p", privacy.Phone("+593991234567"), "n", privacy.NationalID("1714307103"), "e", privacy.Email("A@b.ec"))

	l := lines(t, &buf)
	for k, w := range map[string]any{
		"p": privacy.RedactedPhone, "n": privacy.RedactedNationalID, "e": privacy.RedactedEmail,
		"t": privacy.RedactedToken, "x": "[redacted text, 4 chars]", "none": "",
	} {
		if l[0][k] != w {
			t.Errorf("without a pseudonymizer, %s = %v, want %v", k, l[0][k], w)
		}
	}
	for k, w := range map[string]any{
		"p": p.ID(privacy.KindPhone, "+593991234567"),
		"n": p.ID(privacy.KindNationalID, "1714307103"),
		"e": p.ID(privacy.KindEmail, "a@b.ec"),
	} {
		if l[1][k] != w {
			t.Errorf("with a pseudonymizer, %s = %v, want %v", k, l[1][k], w)
		}
	}
}

// The handler must keep slog's contract: groups, WithAttrs, empty
// attributes, resolved values.
func TestHandlerConformsToSlog(t *testing.T) {
	var buf bytes.Buffer
	newHandler := func(*testing.T) slog.Handler {
		buf.Reset()
		return privacy.NewHandler(slog.NewJSONHandler(&buf, nil), newTestPseudonymizer(t))
	}
	result := func(t *testing.T) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	slogtest.Run(t, newHandler, result)
}

func BenchmarkHandler(b *testing.B) {
	p := newTestPseudonymizer(b)
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"json", slog.NewJSONHandler(io.Discard, nil)},
		{"json+privacy", privacy.NewHandler(slog.NewJSONHandler(io.Discard, nil), p)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			log := slog.New(bc.h).With("carrier", "africastalking")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				log.InfoContext(ctx, "hop done", "flow", "turnos@3", "step", "confirm",
					"citizen", privacy.Phone("+593991234567"), "elapsed", 12*time.Millisecond, "status", 200)
			}
		})
	}
}

// Message ids are how operators match a log line with what the
// notifications API answered: random or hashed, they look like tokens to
// Scrub but name no one. Personal data inside one is still hidden.
func TestHandlerKeepsMessageIDs(t *testing.T) {
	log, buf := jsonLogger(newTestPseudonymizer(t))
	for _, tc := range []struct{ key, in, want string }{
		{"message_id", "ntf_3f0c9a61d2b84e7c9b1f0a2d4c6e8f10", "ntf_3f0c9a61d2b84e7c9b1f0a2d4c6e8f10"},
		{"message_id", "ntf_k7qz2m4x9b3npw5rt6yd8hvc2a", "ntf_k7qz2m4x9b3npw5rt6yd8hvc2a"},
		{"notification_id", "ntf_3f0c9a61d2b84e7c9b1f0a2d4c6e8f10", "ntf_3f0c9a61d2b84e7c9b1f0a2d4c6e8f10"},
		{"message_id", "africastalking-sms:ATXid_4b7d0e8f3a2c19d65e7f8a9b0c1d2e3f:reply", "africastalking-sms:ATXid_4b7d0e8f3a2c19d65e7f8a9b0c1d2e3f:reply"},
		{"message_id", "async:+593991234567:1764967500", "async:[phone]:[number]"},
		{"message_id", "ana@example.com", "[email]"},
	} {
		buf.Reset()
		log.Warn("outbound: message failed", tc.key, tc.in)
		if got := lines(t, buf)[0][tc.key]; got != tc.want {
			t.Errorf("%s=%q logs as %q, want %q", tc.key, tc.in, got, tc.want)
		}
	}
}
