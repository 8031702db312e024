package indicators

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func publisher(t *testing.T) *Publisher {
	m := NewMemory()
	dims := Dims{Flow: "turnos", Institution: "Registro Civil", Channel: "ussd", Carrier: "africastalking", Locale: "es"}
	d := day(0).Format(DayLayout)
	_ = m.Add(context.Background(), map[Cell]int64{
		{d, dims, MetricStarted}:                                                    40,
		{d, dims, MetricCompleted}:                                                  30,
		{d, dims, MetricHops + ":7"}:                                                30,
		{d, dims, MetricSeconds + ":60"}:                                            30,
		{d, dims, MetricAbandoned + ":pin"}:                                         6,
		{d, dims, MetricRating + ":5"}:                                              8,
		{d, dims, MetricRating + ":4"}:                                              2,
		{d, dims, MetricRating + ":1"}:                                              2,
		{d, dims, MetricReminder + ":sent"}:                                         20,
		{d, Dims{Institution: "Registro Civil"}, MetricCall + ":turnos.book:ok"}:    29,
		{d, Dims{Institution: "Registro Civil"}, MetricCall + ":turnos.book:error"}: 1,
	})
	return &Publisher{Store: m, K: 10, Now: func() time.Time { return day(2) },
		Services: func() []Service {
			return []Service{{ID: "turnos", Title: "Turnos", Institution: "Registro Civil"}, {ID: "buzon"}}
		}}
}

func get(t *testing.T, h http.Handler, target string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Result()
}

func TestIndicatorsJSON(t *testing.T) {
	h := publisher(t).Handler(time.UTC, slog.Default())
	res := get(t, h, "/v1/indicators?from=2026-12-01&to=2026-12-03&granularity=week")
	if res.StatusCode != 200 {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var r Report
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.ServicesOnline != 2 || r.Licence != DefaultLicence || r.K != 10 || len(r.Periods) != 1 || r.Periods[0].Key != "2026-11-30" {
		t.Errorf("report header: %+v", r)
	}
	s := r.Services[0]
	if s.Key != "turnos" || s.Title != "Turnos" || s.Started != 40 || s.Completed != 30 || *s.CompletionRate != 0.75 ||
		*s.MedianHops != 7 || *s.MedianSeconds != 60 || s.Abandoned["pin"] != 6 {
		t.Errorf("turnos: %+v", s)
	}
	sat := s.Satisfaction
	if sat.Count != 12 || sat.Distribution != [5]int64{2, 0, 0, 2, 8} || *sat.Mean != 50.0/12 || *sat.Index != 100*10.0/12 {
		t.Errorf("satisfaction: %+v", sat)
	}
	if s.Reminders.Sent != 20 {
		t.Errorf("reminders: %+v", s.Reminders)
	}
	if len(r.Backends) != 1 || r.Backends[0].Calls != 30 || r.Backends[0].Outcomes["ok"] != 29.0/30 || r.Backends[0].Institution != "Registro Civil" {
		t.Errorf("back-ends: %+v", r.Backends)
	}
	if len(r.BackendInstitutions) != 1 || r.BackendInstitutions[0].Institution != "Registro Civil" || r.BackendInstitutions[0].Outcomes["error"] != 1.0/30 || r.BackendTotal.Calls != 30 {
		t.Errorf("back-ends per institution: %+v, all: %+v", r.BackendInstitutions, r.BackendTotal)
	}
}

// Calls counted before they carried their institution are counted under
// the service's owner now, when it has one.
func TestIndicatorsOldCallsGoToTheServiceOwner(t *testing.T) {
	m := NewMemory()
	d := day(0).Format(DayLayout)
	_ = m.Add(context.Background(), map[Cell]int64{
		{d, Dims{}, MetricCall + ":turnos.book:ok"}:                                  12,
		{d, Dims{Institution: "ventanilla"}, MetricCall + ":turnos.book:ok"}:         8,
		{d, Dims{}, MetricCall + ":gone.lookup:timeout"}:                             11,
		{d, Dims{Institution: "transito"}, MetricCall + ":transito.multas:rejected"}: 10,
	})
	p := &Publisher{Store: m, K: 10, ServiceOwner: func(s string) string {
		return map[string]string{"turnos.book": "ventanilla"}[s]
	}}
	r := report(t, p, 0, 0, Day)
	got := map[string]int64{}
	for _, b := range r.Backends {
		got[b.Institution+"/"+b.Service] = b.Calls
	}
	if got["ventanilla/turnos.book"] != 20 || got["/gone.lookup"] != 11 || got["transito/transito.multas"] != 10 || len(got) != 3 {
		t.Errorf("back-ends: %v", got)
	}
}

func TestIndicatorsCSV(t *testing.T) {
	res := get(t, publisher(t).Handler(time.UTC, slog.Default()), "/v1/indicators?from=2026-12-01&format=csv")
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %q", ct)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"services", "turnos", "Registro Civil", "", "satisfaction.perception_index", "83.3333"}
	for _, r := range rows {
		if strings.Join(r, ",") == strings.Join(want, ",") {
			return
		}
	}
	t.Errorf("no row %v in\n%v", want, rows)
}

func TestIndicatorsRefusesBadQueries(t *testing.T) {
	h := publisher(t).Handler(time.UTC, slog.Default())
	for target, want := range map[string]string{
		"/v1/indicators?granularty=week":               `did you mean "granularity"`,
		"/v1/indicators?from=1/12/2026":                "YYYY-MM-DD",
		"/v1/indicators?granularity=year":              "day, week or month",
		"/v1/indicators?from=2026-12-05&to=2026-12-01": "before",
		"/v1/indicators?from=2000-01-01&to=2026-12-01": "at most",
		"/v1/indicators?format=xml":                    "json or csv",
		"/v1/indicators?institution=Registro%20Civl":   `did you mean "Registro Civil"`,
	} {
		res := get(t, h, target)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %q; want 400 saying %q", target, res.StatusCode, body, want)
		}
	}
}

func TestIndicatorsPage(t *testing.T) {
	res := get(t, publisher(t).Page(time.UTC, slog.Default()), "/indicators?from=2026-12-01")
	body, _ := io.ReadAll(res.Body)
	page := string(body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{"<svg", "Índice de percepción", "Turnos", "CC-BY-4.0", "83", "format=csv"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the page runs a script")
	}
	// Nothing is loaded from elsewhere: the only outside address is the
	// licence's, in a link.
	for _, m := range regexp.MustCompile(`(src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if m[1] == "src" || strings.Contains(m[2], "//") && m[2] != DefaultLicenceURL {
			t.Errorf("the page refers to %s", m[0])
		}
	}
}

// ?institution= narrows the JSON, the CSV and the page to one
// institution, and the page links each institution to its own.
func TestIndicatorsPerInstitution(t *testing.T) {
	p := publisher(t)
	res := get(t, p.Handler(time.UTC, slog.Default()), "/v1/indicators?from=2026-12-01&institution=Registro%20Civil")
	var r Report
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d: %v", res.StatusCode, err)
	}
	if r.Institution != "Registro Civil" || r.Total.Started != 40 || len(r.Services) != 1 || len(r.Institutions) != 1 || len(r.Backends) != 1 || r.BackendTotal.Calls != 30 {
		t.Errorf("one institution's report: %+v", r)
	}
	res = get(t, p.Page(time.UTC, slog.Default()), "/indicators?from=2026-12-01")
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), `institution=Registro&#43;Civil">Registro Civil</a>`) && !strings.Contains(string(body), `institution=Registro+Civil">Registro Civil</a>`) {
		t.Errorf("the page does not link the institution to its own page:\n%s", body)
	}
	res = get(t, p.Page(time.UTC, slog.Default()), "/indicators?from=2026-12-01&institution=Registro+Civil")
	body, _ = io.ReadAll(res.Body)
	if !strings.Contains(string(body), "<h1>Indicadores de atención ciudadana: Registro Civil</h1>") {
		t.Errorf("the institution's page does not say whose it is")
	}
}
