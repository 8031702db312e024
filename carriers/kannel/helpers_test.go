package kannel_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

func TestMain(m *testing.M) {
	// Failure paths log on purpose; keep test output readable. The test
	// that inspects logs installs its own handler.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
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
