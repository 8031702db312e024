package sample_test

import (
	"context"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// services declares the sample's operations as a gateway's services file
// would (the catalogue's flows call the same ids).
const services = `
services:
  turnos.offices: {base_url: "${SAMPLE_URL}", path: /offices}
  turnos.slots:   {base_url: "${SAMPLE_URL}", path: "/offices/{office}/slots"}
  turnos.book:    {base_url: "${SAMPLE_URL}", method: POST, path: /appointments}
  turnos.mine:    {base_url: "${SAMPLE_URL}", path: /appointments}
  turnos.get:     {base_url: "${SAMPLE_URL}", path: "/appointments/{code}"}
  turnos.cancel:  {base_url: "${SAMPLE_URL}", method: POST, path: "/appointments/{code}/cancel"}
  turnos.confirm: {base_url: "${SAMPLE_URL}", method: POST, path: "/appointments/{code}/confirm"}
  tramites.status: {base_url: "${SAMPLE_URL}", path: "/procedures/{number}"}
  buzon.ticket:   {base_url: "${SAMPLE_URL}", method: POST, path: /tickets}
`

// A citizen's whole appointment journey, as flows make it through the
// interop client: every step's outcome and saved values.
func TestThroughTheInteropClient(t *testing.T) {
	srv := httptest.NewServer(sample.New(sample.Options{
		Now:   func() time.Time { return monday },
		Codes: codes(),
	}))
	defer srv.Close()
	reg, err := interop.ParseRegistry("services.yaml", []byte(services), func(name string) (string, bool) {
		return srv.URL, name == "SAMPLE_URL"
	})
	if err != nil {
		t.Fatal(err)
	}
	c := interop.NewClient(reg, srv.Client())
	ctx := context.Background()
	call := func(service string, params map[string]any, want interop.Outcome) interop.Response {
		t.Helper()
		r := c.Call(ctx, service, params)
		if r.Outcome != want {
			t.Fatalf("%s %v: outcome %q (status %d, err %v, body %s), want %q", service, params, r.Outcome, r.Status, r.Err, r.Body, want)
		}
		return r
	}

	offices := call("turnos.offices", nil, interop.OK)
	if got := offices.Get("0.name"); got != "Quito Norte" {
		t.Errorf("first office %v", got)
	}
	office := offices.Get("0.id")

	slots := call("turnos.slots", map[string]any{"office": office}, interop.OK)
	if n := slots.Get("#"); n != int64(12) {
		t.Errorf("%v slots", n)
	}
	slot := slots.Get("0.id")
	call("turnos.slots", map[string]any{"office": "loja"}, interop.NotFound)

	book := map[string]any{"office": office, "slot": slot, "cedula": "1714307103"}
	booked := call("turnos.book", book, interop.OK)
	if got := booked.Get("code"); got != "T-TEST1" {
		t.Errorf("code %v", got)
	}
	taken := call("turnos.book", map[string]any{"office": office, "slot": slot, "cedula": "0926687856"}, interop.Rejected)
	if got := taken.Get("error"); got != "slot_taken" {
		t.Errorf("409 body error = %v", got)
	}
	call("turnos.book", map[string]any{"office": office, "slot": "2027-01-01T09:00", "cedula": "1714307103"}, interop.NotFound)

	mine := call("turnos.mine", map[string]any{"cedula": "1714307103"}, interop.OK)
	want := []any{map[string]any{
		"code": "T-TEST1", "office": "quito-norte", "office_name": "Quito Norte",
		"date": "2026-11-24", "time": "09:00", "status": "active",
	}}
	if got := mine.Get("@this"); !reflect.DeepEqual(got, want) {
		t.Errorf("mine = %#v", got)
	}
	call("turnos.get", map[string]any{"code": "T-TEST1"}, interop.OK)
	call("turnos.get", map[string]any{"code": "../offices"}, interop.NotFound)

	if got := call("turnos.confirm", map[string]any{"code": "T-TEST1", "cedula": "1714307103"}, interop.OK).Get("status"); got != "confirmed" {
		t.Errorf("confirm status %v", got)
	}
	call("turnos.confirm", map[string]any{"code": "T-TEST1", "cedula": "0926687856"}, interop.NotFound)
	cancel := call("turnos.cancel", map[string]any{"code": "T-TEST1", "cedula": "1714307103"}, interop.OK)
	if got := cancel.Get("status"); got != "cancelled" {
		t.Errorf("cancel status %v", got)
	}
	call("turnos.cancel", map[string]any{"code": "T-TEST1", "cedula": "1714307103"}, interop.NotFound)
	if got := call("turnos.mine", map[string]any{"cedula": "1714307103"}, interop.OK).Get("#"); got != int64(0) {
		t.Errorf("after cancel, %v appointments", got)
	}

	if got := call("tramites.status", map[string]any{"number": "1002"}, interop.OK).Get("status"); got != "ready" {
		t.Errorf("procedure status %v", got)
	}
	call("tramites.status", map[string]any{"number": int64(42)}, interop.NotFound)

	ticket := call("buzon.ticket", map[string]any{"kind": "suggestion", "text": "Más buses *por favor*", "phone": "+593991000009"}, interop.OK)
	if got := ticket.Get("ticket"); got != "B-000001" {
		t.Errorf("ticket %v", got)
	}
	call("buzon.ticket", map[string]any{"kind": "rant", "text": "x"}, interop.Rejected)
}
