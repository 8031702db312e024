package notify_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// BenchmarkCreate measures one accepted notification through the router:
// auth, strict decoding, validation, rendering, the record and the queue.
func BenchmarkCreate(b *testing.B) {
	f := newFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/notifications", strings.NewReader(listo))
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+civilToken)
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
