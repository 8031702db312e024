package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/indicators"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
)

// Citizens book turnos and give up half-way on USSD; the indicators of
// the day count them per service, channel and language, with nobody's
// number among them.
func TestIndicatorsCountConversations(t *testing.T) {
	t.Run("memory", func(t *testing.T) { countConversations(t, &config{IndicatorsK: 2}) })
	t.Run("redis", func(t *testing.T) {
		addr := redistest.Start(t).Options().Addr
		countConversations(t, &config{RedisURL: "redis://" + addr + "/0", NearSessions: 1000, IndicatorsK: 2})
	})
}

func countConversations(t *testing.T, c *config) {
	srv, a := gatewayLogging(t, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	phones := []string{"+593991000011", "+593991000012", "+593991000013"}
	for _, phone := range phones {
		d := &dialer{t: t, url: srv.URL, session: "ind-" + phone, phone: phone}
		for _, in := range []string{"", "1", "1", "1", "1", "1", "1714307103"} {
			d.send(in)
		}
		expect(t, d.send("1"), "CON Turno reservado")
		expect(t, d.send("5"), "END Gracias") // the satisfaction question
	}
	for i, phone := range phones[:2] {
		d := &dialer{t: t, url: srv.URL, session: "left-" + phone, phone: phone}
		d.send("")
		d.send("1")
		d.send("1") // book: the offices
		// Dialling again and declining to resume leaves the first at the office list.
		d = &dialer{t: t, url: srv.URL, session: "again-" + phone + string(rune('a'+i)), phone: phone}
		expect(t, d.send(""), "1.")
		d.send("2")
	}
	if err := a.counter.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(srv.URL + "/v1/indicators")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	for _, p := range phones {
		if strings.Contains(string(body), p) || strings.Contains(string(body), p[1:]) {
			t.Fatalf("the indicators hold a phone number: %s", body)
		}
	}
	var r indicators.Report
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	var turnos *indicators.Row
	for i := range r.Services {
		if r.Services[i].Key == "turnos" {
			turnos = &r.Services[i]
		}
		if r.Services[i].Key == "inicio" {
			t.Errorf("the root menu counted as a service: %+v", r.Services[i])
		}
	}
	if turnos == nil {
		t.Fatalf("no turnos among %s", body)
	}
	if turnos.Started != 5 || turnos.Completed != 3 || turnos.Abandoned["pick_office"] != 2 || turnos.Institution != "ventanilla" {
		t.Errorf("turnos: %d started, %d completed, abandoned %v, institution %q; want 5, 3, pick_office 2, ventanilla", turnos.Started, turnos.Completed, turnos.Abandoned, turnos.Institution)
	}
	if turnos.MedianHops == nil {
		t.Error("no median hops")
	} else if *turnos.MedianHops != 8 {
		t.Errorf("median hops %d; want 8 (the language, the menus, the cédula, the confirmation)", *turnos.MedianHops)
	}
	if len(r.Channels) != 1 || r.Channels[0].Key != "ussd" || r.Channels[0].Started != 5 {
		t.Errorf("channels %+v", r.Channels)
	}
	if len(r.Backends) == 0 {
		t.Errorf("back-ends %+v", r.Backends)
	}
	// The services on line are the catalogue's live entries, as GET
	// /v1/catalogue lists them — not every flow loaded (a reminder's reply
	// flow is no service of its own).
	var cat struct{ Count, Institutions int }
	if _, body := get(t, srv.URL+"/v1/catalogue"); json.Unmarshal([]byte(body), &cat) != nil || cat.Count == 0 {
		t.Fatalf("catalogue: %s", body)
	}
	if r.ServicesOnline != cat.Count || r.InstitutionsOnline != cat.Institutions {
		t.Errorf("services online %d of %d institutions; the catalogue lists %d of %d", r.ServicesOnline, r.InstitutionsOnline, cat.Count, cat.Institutions)
	}
	// The catalogue's back-end services are the national package's: their
	// calls are counted under it, and add up to its row.
	var calls int64
	for _, b := range r.Backends {
		if b.Institution != "ventanilla" {
			t.Errorf("back-end %s counted under %q, not its package ventanilla", b.Service, b.Institution)
		}
		calls += b.Calls
	}
	if len(r.BackendInstitutions) != 1 || r.BackendInstitutions[0].Institution != "ventanilla" || r.BackendInstitutions[0].Calls != calls || r.BackendTotal.Calls != calls {
		t.Errorf("back-ends per institution %+v, all %+v; want ventanilla's %d calls", r.BackendInstitutions, r.BackendTotal, calls)
	}
	if c.RedisURL != "" {
		// As stored: each call's cell names its institution (a report
		// would also give an older cell without one to the service's owner).
		client, err := redisClient(c.RedisURL)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		now := time.Now()
		cells, err := indicators.NewRedis(client, 0).Read(context.Background(), indicators.Days(now.AddDate(0, 0, -1), now.AddDate(0, 0, 1)))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for cell := range cells {
			if strings.HasPrefix(cell.Metric, indicators.MetricCall+":") {
				n++
				if cell.Dims != (indicators.Dims{Institution: "ventanilla"}) {
					t.Errorf("call %s stored with dims %+v; want the institution ventanilla alone", cell.Metric, cell.Dims)
				}
			}
		}
		if n == 0 {
			t.Error("no call stored")
		}
	}
	// Operators see the same per institution in Prometheus, unwithheld.
	if _, metrics := get(t, srv.URL+"/metrics"); !strings.Contains(metrics, `ventanilla_tramites_completed_total{channel="ussd",flow="turnos",institution="ventanilla"} 3`) ||
		!strings.Contains(metrics, `ventanilla_conversations_started_total{channel="ussd",flow="turnos",institution="ventanilla"} 5`) {
		t.Errorf("/metrics lacks completions and starts per institution")
	}
	page, err := http.Get(srv.URL + "/indicators")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(html), "<svg") || !strings.Contains(string(html), "Turnos") {
		t.Errorf("the page shows no chart of turnos")
	}
}

// A conversation the carrier closed, then left for good when the citizen
// dials again and starts over, was abandoned once: at the step it was
// left, in the published funnel and in the operators' one.
func TestAbandonedCountedOnce(t *testing.T) {
	srv, a := gatewayLogging(t, &config{IndicatorsK: 1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i, restart := range []string{"decline the resume offer", "dial a short code"} {
		phone := "+59399100003" + string(rune('1'+i))
		h := &phoneOn{t, a, carrier.Inbound{Channel: "ussd", Carrier: "africastalking", SessionID: "first-" + phone, Phone: phone, ServiceCode: "*384#"}}
		h.send("")
		h.send("1")
		h.send("1") // turnos: its menu
		end := h.in
		end.Event = carrier.EventEnd
		if _, err := a.gateway.Hop(context.Background(), end); err != nil {
			t.Fatal(err)
		}
		again := &phoneOn{t, a, carrier.Inbound{Channel: "ussd", Carrier: "africastalking", SessionID: "again-" + phone, Phone: phone, ServiceCode: "*384#"}}
		switch restart {
		case "decline the resume offer":
			expect(t, again.send(""), "1.")
			again.send("2")
		default:
			again.in.ServiceCode = "*384*1#"
			again.send("")
		}
	}
	if err := a.counter.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, srv.URL+"/v1/indicators")
	var r indicators.Report
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Services {
		if s.Key == "turnos" && s.Abandoned["menu"] != 2 {
			t.Errorf("turnos abandoned at its menu %d times; want 2 (one per conversation): %v", s.Abandoned["menu"], s.Abandoned)
		}
	}
	_, metrics := get(t, srv.URL+"/metrics")
	want := `ventanilla_flow_steps_total{event="abandoned",flow="turnos",institution="ventanilla",step="menu"} 2`
	if !strings.Contains(metrics, want) {
		for _, line := range strings.Split(metrics, "\n") {
			if strings.Contains(line, `event="abandoned"`) {
				t.Log(line)
			}
		}
		t.Errorf("/metrics lacks %s", want)
	}
}

// ventanilla indicators prints what GET /v1/indicators publishes: asked of
// the running gateway (--url), or read from its Redis with the same k, in
// a table, JSON or CSV, for one institution or one service.
func TestIndicatorsCommandLine(t *testing.T) {
	addr := "redis://" + redistest.Start(t).Options().Addr + "/0"
	// The gateway counts days in UTC here (its zone unset); the command is told so.
	srv, a := gatewayLogging(t, &config{RedisURL: addr, NearSessions: 1000, IndicatorsK: 2}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, phone := range []string{"+593991000041", "+593991000042", "+593991000043"} {
		d := &dialer{t: t, url: srv.URL, session: "cli-" + phone, phone: phone}
		for _, in := range []string{"", "1", "1", "1", "1", "1", "1714307103", "1"} {
			d.send(in)
		}
		expect(t, d.send("4"), "END Gracias")
	}
	if err := a.counter.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, api := get(t, srv.URL+"/v1/indicators")
	var want indicators.Report
	if err := json.Unmarshal([]byte(api), &want); err != nil {
		t.Fatal(err)
	}
	for _, source := range [][]string{{"--url", srv.URL}, {"--redis-url", addr, "--indicators-k", "2", "--zone", "UTC"}} {
		t.Run(source[0], func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"indicators", "--format", "json"}, source...)...)
			var got indicators.Report
			if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
				t.Fatalf("exit %d: %s%s", code, out, errs)
			}
			got.Generated, want.Generated = time.Time{}, time.Time{}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if string(g) != string(w) {
				t.Errorf("the command prints\n%s\nthe API publishes\n%s", g, w)
			}
			if got.Total.Satisfaction.Count != 3 || got.Total.Completed != 3 {
				t.Errorf("total %+v: want 3 completed, 3 ratings", got.Total)
			}
			code, out, _ = runCLI(t, "", append([]string{"indicators", "--institution", "ventanilla", "--service", "turnos"}, source...)...)
			if code != 0 || !strings.Contains(out, "institution ventanilla") || !strings.Contains(out, "service") || !strings.Contains(out, "turnos") || !strings.Contains(out, "100%") ||
				!regexp.MustCompile(`(?m)^\s*service\s+turnos\s.*\s4\.0\s+7\.5\s+100\s`).MatchString(out) { // mean 4 of 5 is 7.5 of 10
				t.Errorf("table of one service: exit %d\n%s", code, out)
			}
			code, out, _ = runCLI(t, "", append([]string{"indicators", "--format", "csv", "--granularity", "month"}, source...)...)
			if code != 0 || !strings.HasPrefix(out, "table,key,institution,channel,figure,value,name,institution_name\n") || !strings.Contains(out, "services,turnos,ventanilla,,satisfaction.count,3,Turnos,Ventanilla ciudadana\n") {
				t.Errorf("csv: exit %d\n%s", code, out)
			}
			// Names in the reader's language, from the packages' manifests.
			code, out, _ = runCLI(t, "", append([]string{"indicators", "--lang", "en"}, source...)...)
			if code != 0 || !regexp.MustCompile(`(?m)^\s*institution\s+ventanilla\s.*\sCitizen services$`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^\s*service\s+turnos\s.*\sAppointments — Citizen services$`).MatchString(out) {
				t.Errorf("names in English: exit %d\n%s", code, out)
			}
			code, out, _ = runCLI(t, "", append([]string{"indicators", "--lang", "qu", "--format", "json"}, source...)...)
			got = indicators.Report{}
			if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.Lang != "qu" || len(got.Institutions) != 1 || got.Institutions[0].Name != "Llaktayuk ventanilla" ||
				len(got.BackendInstitutions) != 1 || got.BackendInstitutions[0].InstitutionName != "Llaktayuk ventanilla" {
				t.Errorf("names in Kichwa: exit %d\n%s", code, out)
			}
			code, _, errs = runCLI(t, "", append([]string{"indicators", "--lang", "fr"}, source...)...)
			if code != 2 || !strings.Contains(errs, "one of es, en, qu") {
				t.Errorf("a language not served: exit %d: %s", code, errs)
			}
			code, _, errs = runCLI(t, "", append([]string{"indicators", "--service", "turno"}, source...)...)
			if code != 2 || !strings.Contains(errs, `did you mean "turnos"`) {
				t.Errorf("a misspelt service: exit %d: %s", code, errs)
			}
			code, _, errs = runCLI(t, "", append([]string{"indicators", "--granularity", "year"}, source...)...)
			if code != 2 || !strings.Contains(errs, "day, week or month") {
				t.Errorf("a wrong granularity: exit %d: %s", code, errs)
			}
		})
	}
	code, _, errs := runCLI(t, "", "indicators")
	if code != 1 || !strings.Contains(errs, "--url") {
		t.Errorf("without Redis or --url: exit %d: %s", code, errs)
	}
	code, _, errs = runCLI(t, "", "indicators", "--url", srv.URL, "--format", "jsn")
	if code != 2 || !strings.Contains(errs, `did you mean "json"`) {
		t.Errorf("a misspelt format: exit %d: %s", code, errs)
	}
}

// After a bench run against the gateway and its sample back-end (what
// `ventanilla demo` serves), the published indicators and their page show
// the figures: conversations, completed trámites, ratings, back-end calls,
// with the default k.
func TestIndicatorsAfterABench(t *testing.T) {
	srv, a := gatewayLogging(t, &config{Budget: time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	code, out, errs := runCLI(t, "", "bench", "--url", srv.URL, "--sessions", "60", "--citizens", "10", "--concurrency", "4",
		"--scenario", "mixed", "--no-baseline", "--json")
	if code != 0 {
		t.Fatalf("bench: exit %d\n%s\n%s", code, out, errs)
	}
	if err := a.counter.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, srv.URL+"/v1/indicators")
	var r indicators.Report
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r.K != indicators.DefaultK || r.Total.Started < 60 || r.Total.Completed == 0 || r.Total.Satisfaction.Count == 0 || r.Total.MedianHops == nil || len(r.Backends) == 0 {
		t.Errorf("after the bench: k %d, total %+v, back-ends %+v", r.K, r.Total, r.Backends)
	}
	seen := map[string]bool{}
	for _, s := range r.Services {
		seen[s.Key] = s.Started > 0
	}
	if !seen["turnos"] || !seen["estado-tramite"] {
		t.Errorf("services published after the bench: %v", seen)
	}
	_, page := get(t, srv.URL+"/indicators")
	for _, want := range []string{"<svg", "Turnos", "Estado de trámite", "Índice de percepción"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q after the bench", want)
		}
	}
}
