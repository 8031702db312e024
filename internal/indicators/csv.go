package indicators

import (
	"encoding/csv"
	"io"
	"strconv"
)

// CSVHeader is the first line of the CSV form: one row per figure, in
// long form, so that a spreadsheet pivots it any way. The names (of the
// key: a service's title, an institution's name; and of the institution)
// come last, so that readers of the first six columns read on.
var CSVHeader = []string{"table", "key", "institution", "channel", "figure", "value", "name", "institution_name"}

// WriteCSV writes r in long form: table, key, figure, value. Figures
// without a value (a rate of nothing) are left out.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(CSVHeader)
	meta := [][2]string{
		{"from", r.From}, {"to", r.To}, {"granularity", r.Granularity}, {"k", strconv.FormatInt(r.K, 10)},
		{"institution", r.Institution}, {"institution_name", r.InstitutionName}, {"lang", r.Lang},
		{"licence", r.Licence}, {"licence_url", r.LicenceURL}, {"services_online", strconv.Itoa(r.ServicesOnline)},
		{"institutions_online", strconv.Itoa(r.InstitutionsOnline)},
	}
	for _, m := range meta {
		_ = cw.Write([]string{"report", "", "", "", m[0], m[1], "", ""})
	}
	rows := func(table string, rows []Row) {
		for _, row := range rows {
			name := row.Name
			if row.Title != "" {
				name = row.Title
			}
			for _, f := range row.Figures.list() {
				_ = cw.Write([]string{table, row.Key, row.Institution, row.Channel, f[0], f[1], name, row.InstitutionName})
			}
		}
	}
	rows("total", []Row{{Key: "", Figures: r.Total}})
	rows("periods", r.Periods)
	rows("services", r.Services)
	rows("institutions", r.Institutions)
	rows("channels", r.Channels)
	rows("carriers", r.Carriers)
	rows("locales", r.Locales)
	backends := func(table string, rows []BackendRow, key func(BackendRow) (string, string)) {
		for _, b := range rows {
			k, name := key(b)
			_ = cw.Write([]string{table, k, b.Institution, "", "calls", strconv.FormatInt(b.Calls, 10), name, b.InstitutionName})
			for _, o := range sortedKeys(b.Outcomes) {
				_ = cw.Write([]string{table, k, b.Institution, "", "outcome_share." + o, ftoa(b.Outcomes[o]), name, b.InstitutionName})
			}
		}
	}
	backends("backend_total", []BackendRow{r.BackendTotal}, func(BackendRow) (string, string) { return "", "" })
	backends("backend_institutions", r.BackendInstitutions, func(b BackendRow) (string, string) { return b.Institution, b.InstitutionName })
	backends("backends", r.Backends, func(b BackendRow) (string, string) { return b.Service, "" })
	withheld := map[string]map[string]int64{"conversations": r.Withheld.Conversations, "ratings": r.Withheld.Ratings, "reminders": r.Withheld.Reminders, "calls": r.Withheld.Calls}
	for _, figure := range sortedKeys(withheld) {
		n := withheld[figure]
		for _, t := range sortedKeys(n) {
			_ = cw.Write([]string{"withheld", t, "", "", figure, strconv.FormatInt(n[t], 10), "", ""})
		}
	}
	cw.Flush()
	return cw.Error()
}

// list is the figures of a row as names and values, in the order of
// the JSON form; figures without a value are left out.
func (f Figures) list() [][2]string {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	out := [][2]string{{"conversations_started", i(f.Started)}, {"tramites_completed", i(f.Completed)}}
	if f.CompletionRate != nil {
		out = append(out, [2]string{"completion_rate", ftoa(*f.CompletionRate)})
	}
	if f.MedianHops != nil {
		out = append(out, [2]string{"median_hops", strconv.Itoa(*f.MedianHops)})
	}
	if f.MedianSeconds != nil {
		out = append(out, [2]string{"median_seconds", strconv.Itoa(*f.MedianSeconds)})
	}
	for _, s := range sortedKeys(f.Abandoned) {
		out = append(out, [2]string{"abandoned_at." + s, i(f.Abandoned[s])})
	}
	s := f.Satisfaction
	out = append(out, [2]string{"satisfaction.count", i(s.Count)})
	if s.Mean != nil {
		out = append(out, [2]string{"satisfaction.mean", ftoa(*s.Mean)}, [2]string{"satisfaction.mean_0_10", ftoa(*s.Scale10)},
			[2]string{"satisfaction.perception_index", ftoa(*s.Index)})
	}
	for j, n := range s.Distribution {
		out = append(out, [2]string{"satisfaction.score_" + strconv.Itoa(j+1), i(n)})
	}
	out = append(out, [2]string{"reminders.sent", i(f.Reminders.Sent)}, [2]string{"reminders.confirmed", i(f.Reminders.Confirmed)}, [2]string{"reminders.cancelled", i(f.Reminders.Cancelled)})
	return out
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
