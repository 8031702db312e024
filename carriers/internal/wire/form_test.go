package wire_test

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
)

// atHop is an Africa's Talking callback body as it arrives on every hop.
const atHop = "sessionId=ATUid_8f3c2a9e1b7d4c6a0e5f2b3d9c1a7e40&serviceCode=*384%23&phoneNumber=%2B593991234567&networkCode=74001&text=1*2"

// formEcho makes the contexts: one is enough, and echo.New is the
// costliest part of a fuzz run.
var formEcho = echo.New()

// formContext is an echo context for a POST of body with Content-Type
// ct; declared says whether the request states its length, as a chunked
// one does not.
func formContext(ct string, body io.Reader, length int64, declared bool) echo.Context {
	req := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(body))
	req.ContentLength = -1
	if declared {
		req.ContentLength = length
	}
	if ct != "" {
		req.Header.Set(echo.HeaderContentType, ct)
	}
	return formEcho.NewContext(req, httptest.NewRecorder())
}

func TestReadForm(t *testing.T) {
	many := strings.Repeat("k=v&", 99) + "last=%2B1"
	tests := []struct {
		name, ct, body string
		want           url.Values
		err            string
	}{
		{"africas talking hop", "application/x-www-form-urlencoded", atHop, url.Values{
			"sessionId": {"ATUid_8f3c2a9e1b7d4c6a0e5f2b3d9c1a7e40"}, "serviceCode": {"*384#"},
			"phoneNumber": {"+593991234567"}, "networkCode": {"74001"}, "text": {"1*2"}}, ""},
		{"charset", "application/x-www-form-urlencoded; charset=UTF-8", "a=1", url.Values{"a": {"1"}}, ""},
		{"upper case", "Application/X-WWW-Form-URLEncoded;Charset=utf-8", "a=1", url.Values{"a": {"1"}}, ""},
		{"other parameter", "application/x-www-form-urlencoded; boundary=x", "a=1", url.Values{"a": {"1"}}, ""},
		{"bad parameter", "application/x-www-form-urlencoded; charset", "a=1", nil,
			"Content-Type: want application/x-www-form-urlencoded"},
		{"not a token", "application/x-www-form-urlencoded; charſet=utf-8", "a=1", nil,
			"Content-Type: want application/x-www-form-urlencoded"},
		{"longer type", "application/x-www-form-urlencodedx", "a=1", nil,
			"Content-Type: want application/x-www-form-urlencoded"},
		{"JSON", "application/json", "a=1", nil, "Content-Type: want application/x-www-form-urlencoded"},
		{"empty", "application/x-www-form-urlencoded", "", url.Values{}, ""},
		{"repeated keys keep their neighbours", "application/x-www-form-urlencoded", "a=1&b=2&a=3&c=4&a=5",
			url.Values{"a": {"1", "3", "5"}, "b": {"2"}, "c": {"4"}}, ""},
		{"empty fields and names", "application/x-www-form-urlencoded", "&&=x&y&z=&a+b=c+d",
			url.Values{"": {"x"}, "y": {""}, "z": {""}, "a b": {"c d"}}, ""},
		{"many fields", "application/x-www-form-urlencoded", many,
			url.Values{"k": slices.Repeat([]string{"v"}, 99), "last": {"+1"}}, ""},
		{"bad escape", "application/x-www-form-urlencoded", "a=%zz", nil, "body: malformed form encoding"},
		{"cut escape", "application/x-www-form-urlencoded", "a=1&b=%2", nil, "body: malformed form encoding"},
		{"bad escape in a name", "application/x-www-form-urlencoded", "%g1=1", nil, "body: malformed form encoding"},
		{"semicolon", "application/x-www-form-urlencoded", "a=1;b=2", nil, "body: malformed form encoding"},
		{"semicolon alone", "application/x-www-form-urlencoded", "a=1&;", nil, "body: malformed form encoding"},
		{"too large", "application/x-www-form-urlencoded", "a=" + strings.Repeat("x", wire.MaxBody-1), nil,
			"body: larger than 8 KiB"},
	}
	for _, tt := range tests {
		for _, declared := range []bool{true, false} {
			t.Run(tt.name+"/declared="+strconv.FormatBool(declared), func(t *testing.T) {
				c := formContext(tt.ct, strings.NewReader(tt.body), int64(len(tt.body)), declared)
				got, err := wire.ReadForm(c, wire.MaxBody)
				if errText(err) != tt.err || !reflect.DeepEqual(got, tt.want) {
					t.Errorf("ReadForm(%q) = %v, %v; want %v, %q", tt.body, got, err, tt.want, tt.err)
				}
			})
		}
	}
}

// TestReadFormStatus checks each refusal carries the status Refuse
// answers with.
func TestReadFormStatus(t *testing.T) {
	broken := func() io.Reader {
		return io.MultiReader(strings.NewReader("a=1"), iotest.ErrReader(errors.New("connection reset")))
	}
	tests := []struct {
		name, ct string
		body     io.Reader
		length   int64
		declared bool
		want     int
	}{
		{"wrong type", "text/plain", strings.NewReader("a=1"), 3, true, http.StatusUnsupportedMediaType},
		{"declared too large", echo.MIMEApplicationForm, strings.NewReader("a=1"), wire.MaxBody + 1, true, http.StatusRequestEntityTooLarge},
		{"runs on", echo.MIMEApplicationForm, strings.NewReader(strings.Repeat("a", wire.MaxBody+1)), 0, false, http.StatusRequestEntityTooLarge},
		{"runs past what it declared", echo.MIMEApplicationForm, strings.NewReader(strings.Repeat("a", wire.MaxBody+1)), 3, true, http.StatusRequestEntityTooLarge},
		{"unreadable", echo.MIMEApplicationForm, broken(), 10, true, http.StatusBadRequest},
		{"unreadable chunked", echo.MIMEApplicationForm, broken(), 0, false, http.StatusBadRequest},
		{"malformed", echo.MIMEApplicationForm, strings.NewReader("a=%"), 3, true, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := formContext(tt.ct, tt.body, tt.length, tt.declared)
			_, err := wire.ReadForm(c, wire.MaxBody)
			if err == nil {
				t.Fatal("accepted")
			}
			if err := wire.Refuse(c, err); err != nil {
				t.Fatal(err)
			}
			if got := c.Response().Status; got != tt.want {
				t.Errorf("status %d, want %d (%v)", got, tt.want, err)
			}
		})
	}
}

// FuzzReadForm: ReadForm reads what url.ParseQuery reads, and refuses
// what it refuses, whether the length is declared or not.
func FuzzReadForm(f *testing.F) {
	for _, s := range []string{atHop, "", "a=1&a=2&b=3", "&&=&a", "a+b=%41%2b", "a=%zz", "a=%2", "%=1",
		"a=1;b=2", ";", "a=1&&b", strings.Repeat("k=v&", 70) + "k=%g0", "a=\xff%FF", "=%00"} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, declared bool) {
		want, wantErr := url.ParseQuery(string(body))
		c := formContext(echo.MIMEApplicationForm, bytes.NewReader(body), int64(len(body)), declared)
		got, err := wire.ReadForm(c, int64(len(body)))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("ReadForm(%q): %v; url.ParseQuery: %v", body, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("ReadForm(%q) = %v; url.ParseQuery: %v", body, got, want)
		}
	})
}

// FuzzContentType: ReadForm accepts exactly the Content-Type headers
// whose media type mime.ParseMediaType reads as a form's.
func FuzzContentType(f *testing.F) {
	for _, s := range []string{echo.MIMEApplicationForm, echo.MIMEApplicationForm + "; charset=utf-8",
		"APPLICATION/x-www-form-urlencoded; CHARSET=UTF-8", echo.MIMEApplicationForm + ";charset=utf-8",
		echo.MIMEApplicationForm + "; charset", " " + echo.MIMEApplicationForm + " ", "application/json",
		echo.MIMEApplicationForm + "; charset=utf-8; charset=utf-8", echo.MIMEApplicationForm + "; charſet=utf-8", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		mt, _, err := mime.ParseMediaType(ct)
		want := err == nil && mt == echo.MIMEApplicationForm
		c := formContext(ct, strings.NewReader("a=1"), 3, true)
		_, err = wire.ReadForm(c, wire.MaxBody)
		if got := err == nil; got != want {
			t.Fatalf("Content-Type %q: ReadForm %v, mime.ParseMediaType %q", ct, err, mt)
		}
	})
}

// BenchmarkReadForm reads one Africa's Talking hop through a real echo
// context, as the carrier's handler does; the request and context are
// reused so that only ReadForm is measured.
func BenchmarkReadForm(b *testing.B) {
	for _, ct := range []struct{ name, header string }{
		{"type", echo.MIMEApplicationForm},
		{"charset", echo.MIMEApplicationForm + "; charset=UTF-8"},
		{"other params", echo.MIMEApplicationForm + "; charset=utf-8; v=1"},
	} {
		b.Run(ct.name, func(b *testing.B) {
			body := strings.NewReader(atHop)
			c := formContext(ct.header, body, int64(len(atHop)), true)
			b.ReportAllocs()
			for b.Loop() {
				body.Reset(atHop)
				values, err := wire.ReadForm(c, wire.MaxBody)
				if err != nil || len(values) != 5 {
					b.Fatalf("ReadForm: %v, %v", values, err)
				}
			}
		})
	}
}
