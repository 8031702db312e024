package wire_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

func TestE164(t *testing.T) {
	tests := []struct {
		raw, region, want, err string
	}{
		{"+593991234567", "EC", "+593991234567", ""},
		{"0991234567", "EC", "+593991234567", ""},
		{"593991234567", "EC", "+593991234567", ""},
		{"233244123456", "EC", "+233244123456", ""}, // Hubtel/Nalo: international without "+"
		{"0244123456", "GH", "+233244123456", ""},
		{" 593991234567", "EC", "+593991234567", ""}, // unencoded "+" in a form
		{"+254711082123", "EC", "+254711082123", ""},
		{"", "EC", "", "phone: missing"},
		{"+254711XXXYYY", "EC", "", "phone: not a phone number"},
		{"+1800FLOWERS", "EC", "", "phone: not a phone number"},
		{"+12", "EC", "", "phone: not a phone number"},
		{"+593 99 123 4567", "EC", "", "phone: not a phone number"},
		{"+" + strings.Repeat("9", 20), "EC", "", "phone: not a phone number"},
	}
	for _, tt := range tests {
		got, err := wire.E164("phone", tt.raw, tt.region)
		if got != tt.want || errText(err) != tt.err {
			t.Errorf("E164(%q, %s) = %q, %v; want %q, %q", tt.raw, tt.region, got, err, tt.want, tt.err)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestCleanInput(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"1", "1", ""},
		{"  José Ñuka  ", "José Ñuka", ""},
		{"\u00a01\u00a0", "1", ""},
		{"1*2*0912345678", "1*2*0912345678", ""},
		{"\u202e", "\u202e", ""}, // a format character, not a control one
		{"1\n2", "", "text: contains control characters"},
		{"1\x00", "", "text: contains control characters"},
		{"1\u0085", "", "text: contains control characters"},
		{"\xff", "", "text: not valid UTF-8"},
		{strings.Repeat("ñ", 9), "", "text: longer than 16 bytes"},
	}
	for _, tt := range tests {
		got, err := wire.CleanInput("text", tt.in, 16)
		if got != tt.want || errText(err) != tt.err {
			t.Errorf("CleanInput(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestSessionIDAndServiceCode(t *testing.T) {
	for in, want := range map[string]string{
		"ATUid_1":                  "",
		" ATUid_1 ":                "",
		"":                         "id: missing",
		"AT Uid":                   "id: not printable ASCII",
		"ATUid_ñ":                  "id: not printable ASCII",
		strings.Repeat("a", 128):   "",
		strings.Repeat("a", 129):   "id: longer than 128 characters",
		"8f3c2a9e-1b7d-4c6a-0e5f-": "",
	} {
		if _, err := wire.SessionID("id", in); errText(err) != want {
			t.Errorf("SessionID(%q): %v, want %q", in, err, want)
		}
	}
	for in, want := range map[string]string{
		"*384#": "", "": "", "b230733cd56b4a0fad820e39f66bc27c": "",
		"*384 1#": "code: not a USSD code", strings.Repeat("1", 65): "code: not a USSD code",
	} {
		if _, err := wire.ServiceCode("code", in); errText(err) != want {
			t.Errorf("ServiceCode(%q): %v, want %q", in, err, want)
		}
	}
}

func TestIsDialString(t *testing.T) {
	for s, want := range map[string]bool{
		"*384#": true, "*384*1*2#": true, "#123#": true, "*714*1*2#": true,
		"": false, "1": false, "*#": false, "**#": false, "*384": false, "384#": false,
		"*384*a#": false, "*384 #": false, "*" + strings.Repeat("1", 70) + "#": false,
	} {
		if got := wire.IsDialString(s); got != want {
			t.Errorf("IsDialString(%q) = %v", s, got)
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		text  string
		limit int
		want  string
	}{
		{"abc", 3, "abc"},
		{"ab\ncd\nef", 5, "ab\ncd"},
		{"ab\ncd\nef", 4, "ab"},
		{"ñññññ", 3, "ñññ"},
		{"abcdef\ngh", 3, "abc"},
		{"abc", 0, "a"},
	}
	for _, tt := range tests {
		if got := wire.Fit(tt.text, tt.limit); got != tt.want {
			t.Errorf("Fit(%q, %d) = %q, want %q", tt.text, tt.limit, got, tt.want)
		}
	}
}

type target struct {
	Name  string `json:"Name"`
	Flag  *bool  `json:"Flag"`
	Count int    `json:"Count"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		body, err string
	}{
		{`{"Name":"a","Flag":true,"Count":3}`, ""},
		{`{"name":"a","extra":{"x":[1,2]},"more":null}`, ""},
		{` {"Name":"a"} `, ""},
		{`{"Name":"a","Name":"b"}`, "Name: sent more than once"},
		{`{"Name":"a","NAME":"b"}`, "NAME: sent more than once"},
		{`{"extra":1,"extra":2}`, "extra: sent more than once"},
		{`{"Name":1}`, "Name: want a string"},
		{`{"Flag":"true"}`, "Flag: want true or false"},
		{`{"Count":"3"}`, "Count: want a whole number"},
		{`{"Count":1.5}`, "Count: want a whole number"},
		{`{"Name":"a"}{}`, "body: more than one JSON value"},
		{`[]`, "body: not a JSON object"},
		{`"x"`, "body: not a JSON object"},
		{``, "body: not valid JSON"},
		{`{"Name":"a"`, "body: not valid JSON"},
		{`{"Name":"a",}`, "body: not valid JSON"},
		{"{\"Name\":\"\xff\"}", "body: not valid UTF-8"},
	}
	for _, tt := range tests {
		var v target
		if err := wire.DecodeJSON([]byte(tt.body), &v); errText(err) != tt.err {
			t.Errorf("DecodeJSON(%s): %v, want %q", tt.body, err, tt.err)
		}
	}
}

func TestReadBodyAndRefuse(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		contentLength           int64
		wantStatus              int
		wantBody                string
	}{
		{"fits", "application/json", `{}`, 2, 200, "{}"},
		{"charset", "application/json; charset=utf-8", `{}`, 2, 200, "{}"},
		{"wrong type", "text/plain", `{}`, 2, 415, "Content-Type: want application/json\n"},
		{"no type", "", `{}`, 2, 415, "Content-Type: want application/json\n"},
		{"declared too large", "application/json", `{}`, 100, 413, "body: larger than 16 bytes\n"},
		{"chunked too large", "application/json", strings.Repeat("x", 17), -1, 413, "body: larger than 16 bytes\n"},
		{"any case", "Application/JSON; Charset=UTF-8", `{}`, 2, 200, "{}"},
		{"exactly the limit", "application/json", strings.Repeat("x", 16), 16, 200, strings.Repeat("x", 16)},
		{"chunked at the limit", "application/json", strings.Repeat("x", 16), -1, 200, strings.Repeat("x", 16)},
		{"declared longer than sent", "application/json", `{}`, 10, 200, "{}"},
		{"declared shorter than sent", "application/json", `{"a":1}`, 2, 200, `{"a":1}`},
		{"runs past what it declared", "application/json", strings.Repeat("x", 17), 2, 413, "body: larger than 16 bytes\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := echo.New()
			e.POST("/", func(c echo.Context) error {
				body, err := wire.ReadBody(c, "application/json", 16)
				if err != nil {
					return wire.Refuse(c, err)
				}
				return c.String(http.StatusOK, string(body))
			})
			req := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(strings.NewReader(tt.body)))
			req.ContentLength = tt.contentLength
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
			}
		})
	}
	if size := (&wire.StatusError{Status: 413, Field: "body", Reason: "larger than 8 KiB"}).Error(); size != "body: larger than 8 KiB" {
		t.Errorf("StatusError text %q", size)
	}
}

type hopper struct {
	rep   carrier.Reply
	err   error
	panic any
}

func (h hopper) Hop(context.Context, carrier.Inbound) (carrier.Reply, error) {
	if h.panic != nil {
		panic(h.panic)
	}
	return h.rep, h.err
}

func TestHop(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name string
		hop  hopper
		want carrier.Reply
	}{
		{"reply", hopper{rep: carrier.Reply{Text: "Elija"}}, carrier.Reply{Text: "Elija"}},
		{"error keeps the localised reply and ends", hopper{rep: carrier.Reply{Text: "Try later."}, err: errors.New("x")},
			carrier.Reply{Text: "Try later.", End: true}},
		{"error without text", hopper{err: errors.New("x")}, carrier.Reply{Text: wire.Fallback, End: true}},
		{"panic", hopper{panic: "boom"}, carrier.Reply{Text: wire.Fallback, End: true}},
	}
	for _, tt := range tests {
		if got := wire.Hop(context.Background(), tt.hop, carrier.Inbound{}, log); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("ErrAbortHandler not re-panicked: %v", p)
		}
	}()
	wire.Hop(context.Background(), hopper{panic: http.ErrAbortHandler}, carrier.Inbound{}, log)
}

// FuzzDecodeJSON: whatever decodes is one JSON object of valid UTF-8, and
// every error names a field in one printable line.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"Name":"a","Flag":true,"Count":3}`, `{"Name":"a","NAME":"b"}`, `[1]`, `{"Count":"3"}`,
		`{"\u212aey":1,"key":2}`, "{\"Name\":\"\xff\"}", `{"a":{"b":{"c":[]}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v target
		err := wire.DecodeJSON(body, &v)
		if err == nil {
			if !utf8.Valid(body) {
				t.Fatal("accepted invalid UTF-8")
			}
			return
		}
		var fe *wire.FieldError
		if !errors.As(err, &fe) || fe.Field == "" || fe.Reason == "" || strings.ContainsFunc(err.Error(), unicode.IsControl) {
			t.Fatalf("error %q (%T)", err, err)
		}
	})
}

// FuzzE164: whatever is accepted is E.164.
func FuzzE164(f *testing.F) {
	for _, s := range []string{"+593991234567", "0991234567", "233244123456", " 593991234567", "+1800FLOWERS", "+12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := wire.E164("phone", raw, "EC")
		if err != nil {
			return
		}
		if len(got) < 3 || len(got) > 16 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("E164(%q) = %q", raw, got)
		}
	})
}

// FuzzCleanInput and FuzzFit: the promised bounds hold.
func FuzzCleanInput(f *testing.F) {
	for _, s := range []string{"1", " José ", "1\n2", "\xff", "\u202e", strings.Repeat("ñ", 40)} {
		f.Add(s, 30)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if got, err := wire.CleanInput("text", s, 64); err == nil {
			if len(got) > 64 || !utf8.ValidString(got) || strings.ContainsFunc(got, unicode.IsControl) || strings.TrimSpace(got) != got {
				t.Fatalf("CleanInput(%q) = %q", s, got)
			}
		}
		limit = limit%300 + 1
		if limit < 1 {
			limit += 300
		}
		got := wire.Fit(s, limit)
		if utf8.RuneCountInString(got) > limit || !strings.HasPrefix(s, got) {
			t.Fatalf("Fit(%q, %d) = %q", s, limit, got)
		}
	})
}
