package indicators

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func publisher(t *testing.T) *Publisher {
	m := NewMemory()
	dims := Dims{Flow: "turnos", Institution: "registro", Channel: "ussd", Carrier: "africastalking", Locale: "es"}
	d := day(0).Format(DayLayout)
	_ = m.Add(context.Background(), map[Cell]int64{
		{d, dims, MetricStarted}:                                              40,
		{d, dims, MetricCompleted}:                                            30,
		{d, dims, MetricHops + ":7"}:                                          30,
		{d, dims, MetricSeconds + ":60"}:                                      30,
		{d, dims, MetricAbandoned + ":pin"}:                                   6,
		{d, dims, MetricRating + ":5"}:                                        8,
		{d, dims, MetricRating + ":4"}:                                        2,
		{d, dims, MetricRating + ":1"}:                                        2,
		{d, dims, MetricReminder + ":sent"}:                                   20,
		{d, Dims{Institution: "registro"}, MetricCall + ":turnos.book:ok"}:    29,
		{d, Dims{Institution: "registro"}, MetricCall + ":turnos.book:error"}: 1,
	})
	return &Publisher{Store: m, K: 10, Now: func() time.Time { return day(2) },
		Services: func() []Service {
			return []Service{{ID: "turnos", Title: Names{"es": "Turnos", "en": "Appointments"}, Institution: "registro"}, {ID: "buzon"}}
		},
		Institutions: func() map[string]Names {
			return map[string]Names{"registro": {"es": "Registro Civil", "en": "Civil Registry", "qu": "Kawsaykunata killkak"}}
		},
		Locales: []string{"es", "en", "qu"},
	}
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
	if sat.Count != 12 || sat.Distribution != [5]int64{2, 0, 0, 2, 8} || *sat.Mean != 50.0/12 || *sat.Index != 100*10.0/12 || math.Abs(*sat.Scale10-95.0/12) > 1e-9 {
		t.Errorf("satisfaction: %+v", sat)
	}
	if s.Reminders.Sent != 20 {
		t.Errorf("reminders: %+v", s.Reminders)
	}
	if len(r.Backends) != 1 || r.Backends[0].Calls != 30 || r.Backends[0].Outcomes["ok"] != 29.0/30 || r.Backends[0].Institution != "registro" || r.Backends[0].InstitutionName != "Registro Civil" {
		t.Errorf("back-ends: %+v", r.Backends)
	}
	if len(r.BackendInstitutions) != 1 || r.BackendInstitutions[0].Institution != "registro" || r.BackendInstitutions[0].Outcomes["error"] != 1.0/30 || r.BackendTotal.Calls != 30 {
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
	want := []string{"services", "turnos", "registro", "", "satisfaction.perception_index", "83.3333", "Turnos", "Registro Civil"}
	for _, r := range rows {
		if strings.Join(r, ",") == strings.Join(want, ",") {
			return
		}
	}
	t.Errorf("no row %v in\n%v", want, rows)
}

// The API and the page refuse a query they cannot answer with a 400 that
// says why, not a 503 as if the counts could not be read.
func TestIndicatorsRefusesBadQueries(t *testing.T) {
	p := publisher(t)
	api, page := p.Handler(time.UTC, slog.Default()), p.Page(time.UTC, slog.Default())
	for target, want := range map[string]string{
		"/v1/indicators?granularty=week":               `did you mean "granularity"`,
		"/v1/indicators?from=1/12/2026":                "YYYY-MM-DD",
		"/v1/indicators?granularity=year":              "day, week or month",
		"/v1/indicators?from=2026-12-05&to=2026-12-01": "before",
		"/v1/indicators?from=2000-01-01&to=2026-12-01": "at most",
		"/v1/indicators?format=xml":                    "json or csv",
		"/v1/indicators?institution=registr":           `did you mean "registro"`,
		"/v1/indicators?lang=fr":                       "one of es, en, qu",
	} {
		for _, h := range []http.Handler{api, page} {
			res := get(t, h, target)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), want) {
				t.Errorf("%s: %d %q; want 400 saying %q", target, res.StatusCode, body, want)
			}
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
	res := get(t, p.Handler(time.UTC, slog.Default()), "/v1/indicators?from=2026-12-01&institution=registro")
	var r Report
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d: %v", res.StatusCode, err)
	}
	if r.Institution != "registro" || r.InstitutionName != "Registro Civil" || r.Total.Started != 40 || len(r.Services) != 1 || len(r.Institutions) != 1 || len(r.Backends) != 1 || r.BackendTotal.Calls != 30 {
		t.Errorf("one institution's report: %+v", r)
	}
	res = get(t, p.Page(time.UTC, slog.Default()), "/indicators?from=2026-12-01")
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), `institution=registro">Registro Civil</a>`) {
		t.Errorf("the page does not link the institution to its own page:\n%s", body)
	}
	res = get(t, p.Page(time.UTC, slog.Default()), "/indicators?from=2026-12-01&institution=registro")
	body, _ = io.ReadAll(res.Body)
	if !strings.Contains(string(body), "<h1>Indicadores de atención ciudadana: Registro Civil</h1>") {
		t.Errorf("the institution's page does not say whose it is")
	}
}

// Institutions and services are named in the reader's language (?lang=),
// in the JSON, the CSV and the page; the id stays the key. An institution
// whose package is gone still shows its figures, under its id, and has
// its own page.
func TestIndicatorsNamesInTheReadersLanguage(t *testing.T) {
	p := publisher(t)
	gone := Dims{Flow: "multas", Institution: "antiguo", Channel: "sms", Carrier: "twilio", Locale: "es"}
	d := day(0).Format(DayLayout)
	_ = p.Store.Add(context.Background(), map[Cell]int64{
		{d, gone, MetricStarted}: 15,
		{d, Dims{Institution: "antiguo"}, MetricCall + ":antiguo.multas:ok"}: 12,
	})
	h := p.Handler(time.UTC, slog.Default())
	for _, tc := range []struct {
		lang, want, registro, turnos string
	}{
		{"", "es", "Registro Civil", "Turnos"},
		{"es", "es", "Registro Civil", "Turnos"},
		{"en", "en", "Civil Registry", "Appointments"},
		{"en-US", "en", "Civil Registry", "Appointments"},
		{"qu", "qu", "Kawsaykunata killkak", "Turnos"}, // no Kichwa title: the Spanish one
		{"quz-EC", "qu", "Kawsaykunata killkak", "Turnos"},
	} {
		t.Run("lang="+tc.lang, func(t *testing.T) {
			res := get(t, h, "/v1/indicators?from=2026-12-01&lang="+tc.lang)
			var r Report
			if err := json.NewDecoder(res.Body).Decode(&r); err != nil || res.StatusCode != 200 {
				t.Fatalf("status %d: %v", res.StatusCode, err)
			}
			names := map[string]string{}
			for _, row := range r.Institutions {
				names[row.Key] = row.Name
			}
			if r.Lang != tc.want || names["registro"] != tc.registro || names["antiguo"] != "antiguo" || len(names) != 2 {
				t.Errorf("lang %q, institutions %v; want %s, registro %q, antiguo by its id", r.Lang, names, tc.want, tc.registro)
			}
			for _, s := range r.Services {
				if s.Key == "turnos" && (s.Title != tc.turnos || s.InstitutionName != tc.registro) {
					t.Errorf("turnos: title %q of %q; want %q of %q", s.Title, s.InstitutionName, tc.turnos, tc.registro)
				}
				if s.Key == "multas" && (s.Title != "" || s.Institution != "antiguo" || s.InstitutionName != "antiguo") {
					t.Errorf("a service of a removed package: %+v", s)
				}
			}
			calls := map[string]string{}
			for _, b := range r.BackendInstitutions {
				calls[b.Institution] = b.InstitutionName
			}
			if calls["registro"] != tc.registro || calls["antiguo"] != "antiguo" {
				t.Errorf("back-ends per institution named %v", calls)
			}
		})
	}

	res := get(t, h, "/v1/indicators?from=2026-12-01&lang=qu&format=csv")
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, r := range rows {
		if r[4] == "conversations_started" || r[4] == "calls" {
			found[r[0]+"/"+r[1]+"/"+r[6]+"/"+r[7]] = true
		}
	}
	for _, want := range []string{
		"institutions/registro/Kawsaykunata killkak/", "institutions/antiguo/antiguo/",
		"services/turnos/Turnos/Kawsaykunata killkak", "services/multas//antiguo",
		"backend_institutions/registro/Kawsaykunata killkak/Kawsaykunata killkak", "backends/antiguo.multas//antiguo",
	} {
		if !found[want] {
			t.Errorf("no CSV row %s among %v", want, found)
		}
	}

	page := p.Page(time.UTC, slog.Default())
	res = get(t, page, "/indicators?from=2026-12-01&lang=en")
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{`lang=en&amp;institution=registro">Civil Registry</a>`, `institution=antiguo">antiguo</a>`, "<td>Appointments</td><td>Civil Registry</td>", `hreflang="qu">Kichwa</a>`, "<b>English</b>"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the English page lacks %s", want)
		}
	}
	res = get(t, page, "/indicators?from=2026-12-01&institution=antiguo")
	body, _ = io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(body), "<h1>Indicadores de atención ciudadana: antiguo</h1>") || !strings.Contains(string(body), "<td>15</td>") {
		t.Errorf("a removed package's page: %d\n%s", res.StatusCode, body)
	}
	res = get(t, page, "/indicators?from=2026-12-01&institution=antigo")
	if body, _ := io.ReadAll(res.Body); res.StatusCode != 400 || !strings.Contains(string(body), `did you mean "antiguo"`) {
		t.Errorf("a misspelt removed institution: %d %s", res.StatusCode, body)
	}
}

// The services on line are what the institutions offer in the catalogue
// (drafts are not counted by Offered), per institution in its own report.
func TestServicesOnlineFromTheCatalogue(t *testing.T) {
	p := publisher(t)
	p.Offered = func() map[string]int { return map[string]int{"registro": 2, "transito": 3, "borrador": 0} }
	r := report(t, p, 0, 0, Day)
	if r.ServicesOnline != 5 || r.InstitutionsOnline != 2 {
		t.Errorf("services online %d of %d institutions; want 5 of 2 (one offers only drafts)", r.ServicesOnline, r.InstitutionsOnline)
	}
	one, err := p.Report(context.Background(), Query{From: day(0), To: day(0), Institution: "registro"})
	if err != nil {
		t.Fatal(err)
	}
	if one.ServicesOnline != 2 {
		t.Errorf("registro's report: %d services online, want 2", one.ServicesOnline)
	}
}
