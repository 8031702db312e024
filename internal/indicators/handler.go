package indicators

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/ventanilla-gob/ventanilla/i18n/locale"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// DefaultDays is the span of a report that names no from.
const DefaultDays = 30

var params = []string{"from", "to", "granularity", "format", "institution", "lang"}

// query reads a report's query from the URL: from and to as YYYY-MM-DD
// (default: the last 30 days up to today in zone), granularity, format
// (json or csv), institution, lang (the language of the names: a locale
// or a BCP 47 tag of one, "es-EC"). The language is asked for, not
// taken from Accept-Language: the page is written in Spanish, and a link
// to a report must show the same names to whoever follows it, through
// any cache.
func (p *Publisher) query(r *http.Request, zone *time.Location) (Query, string, error) {
	return p.ParseQuery(r.URL.Query(), r.Header.Get("Accept"), zone)
}

// ParseQuery reads a report's query from URL parameters, as GET
// /v1/indicators does; accept is the request's Accept header ("" for
// none). The command line reads its flags through it too.
func (p *Publisher) ParseQuery(v url.Values, accept string, zone *time.Location) (Query, string, error) {
	for name := range v {
		if !slices.Contains(params, name) {
			if s := suggest.Closest(name, params); s != "" {
				return Query{}, "", fmt.Errorf("unknown parameter %q (did you mean %q?)", name, s)
			}
			return Query{}, "", fmt.Errorf("unknown parameter %q (known: %s)", name, strings.Join(params, ", "))
		}
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	y, m, d := now().In(zone).Date()
	q := Query{To: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Granularity: v.Get("granularity")}
	q.From = q.To.AddDate(0, 0, 1-DefaultDays)
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if s := v.Get(name); s != "" {
			t, err := time.Parse(DayLayout, s)
			if err != nil {
				return Query{}, "", fmt.Errorf("%s=%q: a day, YYYY-MM-DD", name, s)
			}
			*dst = t
		}
	}
	if v.Get("from") != "" && v.Get("to") == "" && q.To.Before(q.From) {
		q.To = q.From
	}
	q.Institution = v.Get("institution") // checked by Report, which knows those no longer loaded
	if lang := v.Get("lang"); lang != "" {
		known := p.Locales
		if len(known) == 0 {
			known = []string{p.defaultLang()}
		}
		loc, ok := "", false
		if tag, err := language.Parse(lang); err == nil {
			loc, ok = locale.Match(known, tag)
		}
		if !ok {
			return Query{}, "", fmt.Errorf("lang=%q: one of %s", lang, strings.Join(known, ", "))
		}
		q.Lang = loc
	}
	format := v.Get("format")
	if format == "" && strings.Contains(accept, "text/csv") {
		format = "csv"
	}
	switch format {
	case "", "json", "csv":
	default:
		return Query{}, "", fmt.Errorf("format=%q: json or csv", format)
	}
	return q, format, nil
}

// Handler serves GET /v1/indicators: the report as JSON, or as CSV with
// format=csv (or Accept: text/csv). The figures are public: no token.
func (p *Publisher) Handler(zone *time.Location, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, format, err := p.query(r, zone)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rep, err := p.Report(r.Context(), q)
		if err != nil {
			status := http.StatusBadRequest
			if !errors.As(err, new(QueryError)) {
				status = http.StatusServiceUnavailable
				log.Error("indicators not read", "err", err)
				err = fmt.Errorf("the counts cannot be read now; try again later")
			}
			http.Error(w, err.Error(), status)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=60")
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="indicators-%s-%s.csv"`, rep.From, rep.To))
			_ = WriteCSV(w, rep)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	})
}
