package indicators

import (
	_ "embed"
	"errors"
	"fmt"
	"html"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed page.html
var pageSource string

var page = template.Must(template.New("indicators").Funcs(template.FuncMap{
	"pct": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf("%.0f %%", 100**v)
	},
	"num": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf("%.1f", *v)
	},
	"idx": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf("%.0f", *v)
	},
	"mulf": func(v float64) float64 { return 100 * v },
	"int": func(v *int) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprint(*v)
	},
}).Parse(pageSource))

// Page serves /indicators: the main figures as an HTML page with its
// charts drawn on the server as SVG — no script, no font or style from
// anywhere else — so that it reads on any browser, with the same query
// as the API.
func (p *Publisher) Page(zone *time.Location, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, _, err := p.query(r, zone)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rep, err := p.Report(r.Context(), q)
		if errors.As(err, new(QueryError)) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err != nil {
			log.Error("indicators not read", "err", err)
			http.Error(w, "the figures cannot be read now; try again later", http.StatusServiceUnavailable)
			return
		}
		data := struct {
			*Report
			Query                                       string
			Langs                                       []langLink
			Periods, Satisfaction, Channels, Completion template.HTML
		}{Report: rep, Query: r.URL.RawQuery, Langs: p.langLinks(r.URL.Query(), rep.Lang)}
		data.Periods = periodChart(rep.Periods)
		var sat, comp, ch []bar
		for _, s := range rep.Services {
			name := s.Title
			if name == "" {
				name = s.Key
			}
			if s.Satisfaction.Index != nil {
				sat = append(sat, bar{name, *s.Satisfaction.Index, fmt.Sprintf("%.0f (%d)", *s.Satisfaction.Index, s.Satisfaction.Count)})
			}
			if s.CompletionRate != nil {
				comp = append(comp, bar{name, 100 * *s.CompletionRate, fmt.Sprintf("%.0f %%", 100**s.CompletionRate)})
			}
		}
		for _, c := range rep.Channels {
			ch = append(ch, bar{c.Key, float64(c.Started), fmt.Sprint(c.Started)})
		}
		data.Satisfaction = barChart("Índice de percepción de calidad por servicio (0–100)", sat, 100)
		data.Completion = barChart("Trámites completados por servicio (%)", comp, 100)
		data.Channels = barChart("Conversaciones por canal", ch, 0)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		if err := page.Execute(w, data); err != nil {
			log.Error("indicators page", "err", err)
		}
	})
}

// langLink is a link to the same page with the names in another language.
type langLink struct {
	Lang, Name, Href string
	Current          bool
}

// langNames are the languages' own names, for the links between them.
var langNames = map[string]string{"es": "español", "en": "English", "qu": "Kichwa"}

func (p *Publisher) langLinks(v url.Values, current string) []langLink {
	var out []langLink
	for _, l := range p.Locales {
		v.Set("lang", l)
		name := langNames[l]
		if name == "" {
			name = l
		}
		out = append(out, langLink{Lang: l, Name: name, Href: "/indicators?" + v.Encode(), Current: l == current})
	}
	return out
}

type bar struct {
	label string
	value float64
	text  string
}

// barChart draws horizontal bars, scaled to top (0: the largest value).
func barChart(title string, bars []bar, top float64) template.HTML {
	if len(bars) == 0 {
		return template.HTML(`<p class="none">` + html.EscapeString(title) + `: sin datos publicables en este periodo.</p>`)
	}
	if top <= 0 {
		for _, b := range bars {
			top = max(top, b.value)
		}
	}
	const labelW, barW, rowH = 180, 360, 26
	h := rowH*len(bars) + 30
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg role="img" aria-label="%s" viewBox="0 0 %d %d" width="100%%" xmlns="http://www.w3.org/2000/svg">`, html.EscapeString(title), labelW+barW+90, h)
	fmt.Fprintf(&sb, `<title>%s</title><text x="0" y="16" class="t">%s</text>`, html.EscapeString(title), html.EscapeString(title))
	for i, b := range bars {
		y := 28 + i*rowH
		w := 0.0
		if top > 0 {
			w = b.value / top * barW
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end" class="l">%s</text>`, labelW-6, y+15, html.EscapeString(b.label))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.1f" height="18" class="b"/>`, labelW, y+2, w)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" class="v">%s</text>`, float64(labelW)+w+6, y+15, html.EscapeString(b.text))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// periodChart draws conversations started and trámites completed per
// period as pairs of columns.
func periodChart(rows []Row) template.HTML {
	title := "Conversaciones iniciadas y trámites completados por periodo"
	if len(rows) == 0 {
		return template.HTML(`<p class="none">` + title + `: sin datos publicables en este periodo.</p>`)
	}
	var top int64
	for _, r := range rows {
		top = max(top, r.Started)
	}
	const chartH, left = 180, 50
	colW := max(8, min(40, 640/len(rows)))
	w := left + colW*len(rows) + 10
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg role="img" aria-label="%s" viewBox="0 0 %d %d" width="100%%" xmlns="http://www.w3.org/2000/svg">`, title, w, chartH+70)
	fmt.Fprintf(&sb, `<title>%s</title><text x="0" y="16" class="t">%s</text>`, title, title)
	fmt.Fprintf(&sb, `<text x="%d" y="34" text-anchor="end" class="v">%d</text><line x1="%d" y1="30" x2="%d" y2="30" class="g"/>`, left-4, top, left, w)
	fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="g"/>`, left, 30+chartH, w, 30+chartH)
	for i, r := range rows {
		x := left + i*colW
		hs, hc := 0.0, 0.0
		if top > 0 {
			hs = float64(r.Started) / float64(top) * chartH
			hc = float64(r.Completed) / float64(top) * chartH
		}
		fmt.Fprintf(&sb, `<rect x="%d" y="%.1f" width="%d" height="%.1f" class="s"><title>%s: %d iniciadas</title></rect>`, x+1, 30+chartH-hs, colW-2, hs, html.EscapeString(r.Key), r.Started)
		fmt.Fprintf(&sb, `<rect x="%d" y="%.1f" width="%d" height="%.1f" class="b"><title>%s: %d completados</title></rect>`, x+colW/4, 30+chartH-hc, max(1, colW/2), hc, html.EscapeString(r.Key), r.Completed)
		if len(rows) <= 16 || i%(len(rows)/8+1) == 0 {
			fmt.Fprintf(&sb, `<text x="%d" y="%d" class="l" transform="rotate(45 %d %d)">%s</text>`, x+2, 30+chartH+14, x+2, 30+chartH+14, html.EscapeString(r.Key))
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
