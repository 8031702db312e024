package kannel_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"ventanilla/channels/carrier"
)

func TestMain(m *testing.M) {
	// Failure paths log on purpose; keep test output readable. The test
	// that inspects logs installs its own handler.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// fakeHopper stands in for the gateway: it records what it was given and
// answers with a fixed reply, error or panic, or with answer when set.
type fakeHopper struct {
	mu     sync.Mutex
	calls  []carrier.Inbound
	reply  carrier.Reply
	err    error
	panic  any
	answer func(carrier.Inbound) carrier.Reply
}

func (f *fakeHopper) Hop(_ context.Context, in carrier.Inbound) (carrier.Reply, error) {
	f.mu.Lock()
	f.calls = append(f.calls, in)
	f.mu.Unlock()
	if f.panic != nil {
		panic(f.panic)
	}
	if f.answer != nil {
		return f.answer(in), nil
	}
	return f.reply, f.err
}

func (f *fakeHopper) got() []carrier.Inbound {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]carrier.Inbound(nil), f.calls...)
}

func readQuery(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// call sends one request through a real echo router with c mounted.
func call(c carrier.Carrier, hop carrier.Hopper, method, target, contentType string, body io.Reader) *httptest.ResponseRecorder {
	e := newEcho(c, hop)
	req := httptest.NewRequest(method, target, body)
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func get(c carrier.Carrier, hop carrier.Hopper, path, query string) *httptest.ResponseRecorder {
	return call(c, hop, http.MethodGet, path+"?"+query, "", nil)
}

func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func newEcho(c carrier.Carrier, hop carrier.Hopper) *echo.Echo {
	e := echo.New()
	c.Mount(e, hop)
	return e
}
