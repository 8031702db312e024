package twilio_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/twilio"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const (
	token     = "0123456789abcdef0123456789abcdef"
	publicURL = "https://ventanilla.example.gob.ec/sms/twilio"
	statusURL = publicURL + "/status"
	form      = "application/x-www-form-urlencoded"
)

// sign computes X-Twilio-Signature the way Twilio documents it, on its
// own rather than through twilio-go, so that the adapter's use of the
// library is checked against the definition: base64(HMAC-SHA1(token,
// URL + each POST parameter's name and value, sorted by name)).
func sign(key, rawURL, body string) string {
	v, _ := url.ParseQuery(body)
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(rawURL)
	for _, k := range names {
		b.WriteString(k)
		b.WriteString(v[k][0])
	}
	mac := hmac.New(sha1.New, []byte(key))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func newHandler(t testing.TB, sink twilio.StatusSink) *twilio.Handler {
	t.Helper()
	h, err := twilio.New(twilio.Options{PublicURL: publicURL, AuthToken: token, Status: sink})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// post sends body to path through e, signed with sig ("" sends none).
func post(e http.Handler, path, body, sig string) *httptest.ResponseRecorder {
	return postHost(e, "", path, body, sig)
}

// postHost is post with the request's Host set ("" keeps httptest's).
func postHost(e http.Handler, host, path, body, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set(echo.HeaderContentType, form)
	if sig != "" {
		req.Header.Set(twilio.SignatureHeader, sig)
	}
	if host != "" {
		req.Host = host
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// signed posts body to the webhook, signed for the configured URL.
func signed(e http.Handler, body string) *httptest.ResponseRecorder {
	return post(e, "/sms/twilio", body, sign(token, publicURL, body))
}

// twiml reads a TwiML answer: the text of each <Message>.
func twiml(t testing.TB, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, "text/xml") {
		t.Fatalf("Content-Type %q, want text/xml", ct)
	}
	var doc struct {
		XMLName  xml.Name `xml:"Response"`
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("not TwiML: %v\n%s", err, rec.Body)
	}
	return doc.Messages
}

// sink records status callbacks.
type sink struct {
	mu    sync.Mutex
	calls [][2]string
	err   error
}

func (s *sink) MarkDelivered(_ context.Context, id, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, [2]string{id, state})
	return s.err
}

func (s *sink) got() [][2]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][2]string(nil), s.calls...)
}

func router(h carrier.Carrier, hop carrier.Hopper) *echo.Echo { return carriertest.Router(h, hop) }
