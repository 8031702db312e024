package sample_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"

	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// monday is the tests' "now": Monday 23 November 2026, 04:00 in Ecuador.
var monday = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// codes hands out T-TEST1, T-TEST2, …
func codes() func() string {
	var n atomic.Int32
	return func() string { return fmt.Sprintf("T-TEST%d", n.Add(1)) }
}

// api is a running sample with a deterministic clock and codes.
type api struct {
	t     *testing.T
	url   string
	clock *clockwork.FakeClock
}

func start(t *testing.T) *api {
	t.Helper()
	c := testutil.NewClock(monday)
	srv := httptest.NewServer(sample.New(sample.Options{Now: c.Now, Codes: codes()}))
	t.Cleanup(srv.Close)
	return &api{t: t, url: srv.URL, clock: c}
}

// do sends a request (body "" means none) and returns the status and body.
func (a *api) do(method, path, body string) (int, string) {
	a.t.Helper()
	return a.doKeyed(method, path, body, "")
}

// doKeyed is do with an Idempotency-Key ("" sends none).
func (a *api) doKeyed(method, path, body, key string) (int, string) {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(sample.HeaderIdempotencyKey, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		a.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if !json.Valid(data) {
		a.t.Errorf("%s %s: body is not JSON: %q", method, path, data)
	}
	return resp.StatusCode, strings.TrimSpace(string(data))
}

// want checks one exchange: status and exact JSON body ("" skips the body).
func (a *api) want(method, path, body string, status int, wantBody string) string {
	a.t.Helper()
	got, gotBody := a.do(method, path, body)
	if got != status || (wantBody != "" && gotBody != wantBody) {
		a.t.Errorf("%s %s %s\n got %d %s\nwant %d %s", method, path, body, got, gotBody, status, wantBody)
	}
	return gotBody
}

func (a *api) book(office, slot, cedula string) (int, string) {
	a.t.Helper()
	return a.do("POST", "/appointments", fmt.Sprintf(`{"office":%q,"slot":%q,"cedula":%q}`, office, slot, cedula))
}

func TestOffices(t *testing.T) {
	a := start(t)
	body := a.want("GET", "/offices", "", 200, "")
	var list []sample.Office
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) < 4 || len(list) > 5 || list[0] != (sample.Office{ID: "quito-norte", Name: "Quito Norte", City: "Quito"}) {
		t.Errorf("offices: %+v", list)
	}
	for _, o := range list {
		if n := utf8.RuneCountInString(o.Name); n > 18 {
			t.Errorf("%q is %d characters: too long for a USSD menu line", o.Name, n)
		}
	}
}

func slotIDs(t *testing.T, body string) []string {
	t.Helper()
	var slots []sample.Slot
	if err := json.Unmarshal([]byte(body), &slots); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, s := range slots {
		if s.ID != s.Date+"T"+s.Time {
			t.Errorf("slot %+v: id is not date T time", s)
		}
		ids = append(ids, s.ID)
	}
	return ids
}

func TestSlots(t *testing.T) {
	days := func(dates ...string) []string {
		var ids []string
		for _, d := range dates {
			for _, h := range []string{"09:00", "10:30", "14:00", "15:30"} {
				ids = append(ids, d+"T"+h)
			}
		}
		return ids
	}
	tests := []struct {
		name string
		now  time.Time
		want []string
	}{
		{"from Monday: Tuesday to Thursday", monday, days("2026-11-24", "2026-11-25", "2026-11-26")},
		{"from Thursday: over the weekend", monday.AddDate(0, 0, 3), days("2026-11-27", "2026-11-30", "2026-12-01")},
		{"from Saturday", monday.AddDate(0, 0, 5), days("2026-11-30", "2026-12-01", "2026-12-02")},
		// 23:30 on Sunday in Quito is already Monday in UTC: Ecuador's date counts.
		{"late Sunday in Ecuador", time.Date(2026, 11, 30, 4, 30, 0, 0, time.UTC), days("2026-11-30", "2026-12-01", "2026-12-02")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := start(t)
			testutil.SetClock(a.clock, tt.now)
			got := slotIDs(t, a.want("GET", "/offices/cuenca/slots", "", 200, ""))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("slots\n got %q\nwant %q", got, tt.want)
			}
		})
	}

	t.Run("booked slots are not offered, cancelled ones are again", func(t *testing.T) {
		a := start(t)
		if status, body := a.book("cuenca", "2026-11-24T10:30", "1714307103"); status != 201 {
			t.Fatalf("book: %d %s", status, body)
		}
		a.book("quito-sur", "2026-11-24T09:00", "1714307103") // another office: no effect
		got := slotIDs(t, a.want("GET", "/offices/cuenca/slots", "", 200, ""))
		if len(got) != 11 || got[0] != "2026-11-24T09:00" || got[1] != "2026-11-24T14:00" {
			t.Errorf("slots %q", got)
		}
		a.want("POST", "/appointments/T-TEST1/cancel", `{"cedula":"1714307103"}`, 200, "")
		if got := slotIDs(t, a.want("GET", "/offices/cuenca/slots", "", 200, "")); len(got) != 12 {
			t.Errorf("after cancel: %d slots", len(got))
		}
	})

	t.Run("unknown office", func(t *testing.T) {
		start(t).want("GET", "/offices/loja/slots", "", 404, `{"error":"unknown_office"}`)
	})
}

func TestBook(t *testing.T) {
	a := start(t)
	a.want("POST", "/appointments", `{"office":"quito-norte","slot":"2026-11-24T09:00","cedula":"1714307103"}`, 201,
		`{"code":"T-TEST1","office":"quito-norte","office_name":"Quito Norte","date":"2026-11-24","time":"09:00","status":"active"}`)
	a.want("POST", "/appointments", `{"office":"quito-norte","slot":"2026-11-24T09:00","cedula":"0926687856"}`, 409,
		`{"error":"slot_taken"}`)
	// The same citizen may hold several appointments.
	a.want("POST", "/appointments", `{"office":"quito-norte","slot":"2026-11-24T10:30","cedula":"1714307103"}`, 201, "")

	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"missing office", `{"slot":"2026-11-24T09:00","cedula":"1714307103"}`, 400, `{"error":"missing_field","field":"office"}`},
		{"missing slot", `{"office":"cuenca","cedula":"1714307103"}`, 400, `{"error":"missing_field","field":"slot"}`},
		{"missing cedula", `{"office":"cuenca","slot":"2026-11-24T09:00"}`, 400, `{"error":"missing_field","field":"cedula"}`},
		{"cedula not ten digits", `{"office":"cuenca","slot":"2026-11-24T09:00","cedula":"17143071"}`, 400, `{"error":"invalid_cedula"}`},
		{"cedula as a number", `{"office":"cuenca","slot":"2026-11-24T09:00","cedula":1714307103}`, 400, `{"error":"invalid_json"}`},
		{"unknown field", `{"office":"cuenca","slot":"2026-11-24T09:00","cedula":"1714307103","name":"Ana"}`, 400, `{"error":"invalid_json"}`},
		{"trailing data", `{"office":"cuenca","slot":"2026-11-24T09:00","cedula":"1714307103"} {}`, 400, `{"error":"invalid_json"}`},
		{"malformed", `{"office":`, 400, `{"error":"invalid_json"}`},
		{"unknown office", `{"office":"loja","slot":"2026-11-24T09:00","cedula":"1714307103"}`, 404, `{"error":"unknown_office"}`},
		{"slot outside the window", `{"office":"cuenca","slot":"2026-12-24T09:00","cedula":"1714307103"}`, 404, `{"error":"unknown_slot"}`},
		{"slot at an odd time", `{"office":"cuenca","slot":"2026-11-24T09:15","cedula":"1714307103"}`, 404, `{"error":"unknown_slot"}`},
		{"slot today", `{"office":"cuenca","slot":"2026-11-23T15:30","cedula":"1714307103"}`, 404, `{"error":"unknown_slot"}`},
		{"slot garbled", `{"office":"cuenca","slot":"mañana","cedula":"1714307103"}`, 404, `{"error":"unknown_slot"}`},
		{"body over 16 KiB", `{"office":"` + strings.Repeat("x", 17<<10) + `"}`, 413, `{"error":"body_too_large"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.want("POST", "/appointments", tt.body, tt.status, tt.want)
		})
	}

	t.Run("not JSON", func(t *testing.T) {
		req, _ := http.NewRequest("POST", a.url+"/appointments", strings.NewReader("office=cuenca"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

// Two citizens, one slot: exactly one wins, however the requests interleave.
func TestBookConcurrently(t *testing.T) {
	a := start(t)
	const citizens = 40
	var wg sync.WaitGroup
	statuses := make(chan int, citizens)
	for i := range citizens {
		wg.Go(func() {
			status, _ := a.book("guayaquil-centro", "2026-11-25T14:00", fmt.Sprintf("09%08d", i))
			statuses <- status
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != citizens-1 {
		t.Errorf("statuses %v, want one 201 and %d 409", count, citizens-1)
	}
}

// A code clash with an existing appointment gets a fresh code, not an error.
func TestBookRetriesADuplicateCode(t *testing.T) {
	codes := []string{"T-AAAAA", "T-AAAAA", "T-BBBBB"}
	var n atomic.Int32
	srv := httptest.NewServer(sample.New(sample.Options{
		Now:   func() time.Time { return monday },
		Codes: func() string { return codes[n.Add(1)-1] },
	}))
	defer srv.Close()
	a := &api{t: t, url: srv.URL}
	a.want("POST", "/appointments", `{"office":"ambato","slot":"2026-11-24T09:00","cedula":"1714307103"}`, 201, "")
	if body := a.want("POST", "/appointments", `{"office":"ambato","slot":"2026-11-24T10:30","cedula":"1714307103"}`, 201, ""); !strings.Contains(body, `"T-BBBBB"`) {
		t.Errorf("second booking: %s", body)
	}
}

func TestMyAppointments(t *testing.T) {
	a := start(t)
	a.want("GET", "/appointments?cedula=1714307103", "", 200, `[]`)
	a.book("quito-sur", "2026-11-25T09:00", "1714307103")   // T-TEST1
	a.book("quito-norte", "2026-11-24T15:30", "1714307103") // T-TEST2
	a.book("quito-norte", "2026-11-24T09:00", "0926687856") // T-TEST3, someone else
	a.book("cuenca", "2026-11-26T09:00", "1714307103")      // T-TEST4
	a.want("POST", "/appointments/T-TEST4/cancel", `{"cedula":"1714307103"}`, 200, "")

	a.want("GET", "/appointments?cedula=1714307103", "", 200,
		`[{"code":"T-TEST2","office":"quito-norte","office_name":"Quito Norte","date":"2026-11-24","time":"15:30","status":"active"},`+
			`{"code":"T-TEST1","office":"quito-sur","office_name":"Quito Sur","date":"2026-11-25","time":"09:00","status":"active"}]`)

	// Once its time has passed an appointment is no longer listed.
	testutil.SetClock(a.clock, time.Date(2026, 11, 24, 16, 0, 0, 0, ecuador))
	a.want("GET", "/appointments?cedula=1714307103", "", 200,
		`[{"code":"T-TEST1","office":"quito-sur","office_name":"Quito Sur","date":"2026-11-25","time":"09:00","status":"active"}]`)

	a.want("GET", "/appointments", "", 400, `{"error":"missing_field","field":"cedula"}`)
	a.want("GET", "/appointments?cedula=abc", "", 400, `{"error":"invalid_cedula"}`)
}

var ecuador = time.FixedZone("ECT", -5*60*60)

func TestGetAppointment(t *testing.T) {
	a := start(t)
	a.book("ambato", "2026-11-24T09:00", "1714307103") // T-TEST1
	a.book("ambato", "2026-11-24T10:30", "1714307103") // T-TEST2
	a.want("POST", "/appointments/T-TEST2/cancel", `{"cedula":"1714307103"}`, 200, "")

	a.want("GET", "/appointments/T-TEST1", "", 200,
		`{"code":"T-TEST1","office":"ambato","office_name":"Ambato","date":"2026-11-24","time":"09:00","status":"active"}`)
	a.want("GET", "/appointments/T-TEST2", "", 200,
		`{"code":"T-TEST2","office":"ambato","office_name":"Ambato","date":"2026-11-24","time":"10:30","status":"cancelled"}`)
	a.want("GET", "/appointments/T-NOPE", "", 404, `{"error":"unknown_appointment"}`)

	testutil.SetClock(a.clock, time.Date(2026, 11, 24, 9, 0, 0, 0, ecuador))
	a.want("GET", "/appointments/T-TEST1", "", 200,
		`{"code":"T-TEST1","office":"ambato","office_name":"Ambato","date":"2026-11-24","time":"09:00","status":"past"}`)
}

func TestCancel(t *testing.T) {
	a := start(t)
	a.book("cuenca", "2026-11-24T09:00", "1714307103") // T-TEST1
	a.book("cuenca", "2026-11-24T10:30", "1714307103") // T-TEST2

	a.want("POST", "/appointments/T-TEST1/cancel", `{"cedula":"0926687856"}`, 404, `{"error":"unknown_appointment"}`)
	a.want("POST", "/appointments/T-TEST1/cancel", `{"cedula":"1714307103"}`, 200, `{"code":"T-TEST1","status":"cancelled"}`)
	a.want("POST", "/appointments/T-TEST1/cancel", `{"cedula":"1714307103"}`, 404, `{"error":"unknown_appointment"}`)
	a.want("POST", "/appointments/T-NOPE/cancel", `{"cedula":"1714307103"}`, 404, `{"error":"unknown_appointment"}`)
	a.want("POST", "/appointments/T-TEST2/cancel", `{}`, 400, `{"error":"missing_field","field":"cedula"}`)
	a.want("POST", "/appointments/T-TEST2/cancel", `{"cedula":"1714307103","reason":"x"}`, 400, `{"error":"invalid_json"}`)

	// Too late: its time has passed.
	testutil.SetClock(a.clock, time.Date(2026, 11, 24, 11, 0, 0, 0, ecuador))
	a.want("POST", "/appointments/T-TEST2/cancel", `{"cedula":"1714307103"}`, 404, `{"error":"unknown_appointment"}`)
}

func TestProcedures(t *testing.T) {
	a := start(t)
	tests := []struct {
		number string
		status int
		want   string
	}{
		{"1001", 200, `{"number":"1001","status":"in_review","detail":"En revisión técnica"}`},
		{"1002", 200, `{"number":"1002","status":"ready","detail":"Listo para retirar en Quito Norte"}`},
		{"1003", 200, `{"number":"1003","status":"rejected","detail":"Falta copia de la cédula"}`},
		{"1004", 200, `{"number":"1004","status":"received","detail":"Recibido, en espera de revisión"}`},
		{"9999", 404, `{"error":"unknown_procedure"}`},
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			a.want("GET", "/procedures/"+tt.number, "", tt.status, tt.want)
		})
	}
}

func TestTickets(t *testing.T) {
	a := start(t)
	a.want("POST", "/tickets", `{"kind":"complaint","text":"El bus no pasa","phone":"+593991234567"}`, 201, `{"ticket":"B-000001"}`)
	a.want("POST", "/tickets", `{"kind":"compliment","text":"Buena atención"}`, 201, `{"ticket":"B-000002"}`)

	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"500 characters with accents", `{"kind":"suggestion","text":"` + strings.Repeat("ñ", 500) + `"}`, 201, `{"ticket":"B-000003"}`},
		{"501 characters", `{"kind":"suggestion","text":"` + strings.Repeat("a", 501) + `"}`, 400, `{"error":"text_too_long"}`},
		{"unknown kind", `{"kind":"threat","text":"x"}`, 400, `{"error":"invalid_kind"}`},
		{"no kind", `{"text":"x"}`, 400, `{"error":"invalid_kind"}`},
		{"empty text", `{"kind":"complaint","text":""}`, 400, `{"error":"missing_field","field":"text"}`},
		{"blank text", `{"kind":"complaint","text":"  \n "}`, 400, `{"error":"missing_field","field":"text"}`},
		{"phone not E.164", `{"kind":"complaint","text":"x","phone":"0991234567"}`, 400, `{"error":"invalid_phone"}`},
		{"unknown field", `{"kind":"complaint","text":"x","email":"a@b.ec"}`, 400, `{"error":"invalid_json"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.want("POST", "/tickets", tt.body, tt.status, tt.want)
		})
	}
}

func TestNoRouteAnswersJSON(t *testing.T) {
	a := start(t)
	a.want("GET", "/nope", "", 404, `{"error":"not_found"}`)
	a.want("GET", "/offices/cuenca", "", 404, `{"error":"not_found"}`)
	a.want("DELETE", "/offices", "", 405, `{"error":"method_not_allowed"}`)

	resp, err := http.Post(a.url+"/offices", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("405 without Allow: %q", allow)
	}
}

func TestRandomCode(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := sample.RandomCode()
		if len(c) != 7 || !strings.HasPrefix(c, "T-") || strings.ContainsAny(c[2:], "01OI") || strings.Trim(c[2:], "23456789ABCDEFGHJKLMNPQRSTUVWXYZ") != "" {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 990 {
		t.Errorf("%d distinct codes in 1000", len(seen))
	}
}

// A booking sent again with its Idempotency-Key — a retry, another
// gateway instance, a resumed conversation — gets the first answer and
// books nothing more, also when the copies arrive at once; the same key on
// another request is refused; without a key, each request books.
func TestBookWithIdempotencyKey(t *testing.T) {
	a := start(t)
	const body = `{"office":"quito-norte","slot":"2026-11-24T09:00","cedula":"1714307103"}`
	var wg sync.WaitGroup
	answers := make([]string, 8)
	statuses := make([]int, 8)
	for i := range answers {
		wg.Go(func() { statuses[i], answers[i] = a.doKeyed("POST", "/appointments", body, "vt1-abc") })
	}
	wg.Wait()
	for i := range answers {
		if statuses[i] != 201 || answers[i] != answers[0] {
			t.Errorf("copy %d: %d %s, want %d %s", i, statuses[i], answers[i], statuses[0], answers[0])
		}
	}
	mine := a.want("GET", "/appointments?cedula=1714307103", "", 200, "")
	if n := strings.Count(mine, `"code"`); n != 1 {
		t.Errorf("%d appointments after 8 copies of one booking: %s", n, mine)
	}
	other := `{"office":"guayaquil-centro","slot":"2026-11-25T14:00","cedula":"1714307103"}`
	if status, got := a.doKeyed("POST", "/appointments", other, "vt1-abc"); status != 422 || !strings.Contains(got, "idempotency_key_reused") {
		t.Errorf("the key on another booking: %d %s", status, got)
	}
	if status, _ := a.doKeyed("POST", "/appointments", other, "vt1-def"); status != 201 {
		t.Errorf("a new key: %d", status)
	}
}
