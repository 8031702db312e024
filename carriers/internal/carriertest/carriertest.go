package carriertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Hopper records every Inbound it is given and answers with Reply and
// Err, or panics with Panic, or answers what Answer makes of the Inbound
// when Answer is set.
type Hopper struct {
	Reply  carrier.Reply
	Err    error
	Panic  any
	Answer func(carrier.Inbound) carrier.Reply

	mu    sync.Mutex
	calls []carrier.Inbound
}

// Hop implements carrier.Hopper.
func (h *Hopper) Hop(_ context.Context, in carrier.Inbound) (carrier.Reply, error) {
	h.mu.Lock()
	h.calls = append(h.calls, in)
	h.mu.Unlock()
	if h.Panic != nil {
		panic(h.Panic)
	}
	if h.Answer != nil {
		return h.Answer(in), nil
	}
	return h.Reply, h.Err
}

// Reset forgets the Inbounds received so far.
func (h *Hopper) Reset() {
	h.mu.Lock()
	h.calls = h.calls[:0]
	h.mu.Unlock()
}

// Calls returns the Inbounds received so far.
func (h *Hopper) Calls() []carrier.Inbound {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]carrier.Inbound(nil), h.calls...)
}

// Router mounts c on a fresh echo server, as the product does.
func Router(c carrier.Carrier, hop carrier.Hopper) *echo.Echo {
	e := echo.New()
	c.Mount(e, hop)
	return e
}

// Do sends one request to h; contentType "" sends none.
func Do(h http.Handler, method, path, contentType string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, body)
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// Testdata returns the content of testdata/name.
func Testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Seeds adds every testdata file matching pattern to f's corpus.
func Seeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds match testdata/%s", pattern)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
