package indicators

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// Granularities of a report's periods.
const (
	Day   = "day"
	Week  = "week"  // ISO weeks, Monday to Sunday, named by their Monday
	Month = "month" // calendar months, named YYYY-MM
)

// Query asks for a report.
type Query struct {
	From, To    time.Time // days, both included
	Granularity string    // Day, Week or Month
	// Institution, when set, narrows the report to one institution: its
	// total, periods, services, channels, carriers and languages.
	Institution string
	// Lang is the language of the names and titles in the report (one
	// of Publisher.Locales; default the first).
	Lang string
}

// MaxDays bounds the days one report reads.
const MaxDays = 1100

// QueryError is a query that cannot be answered as asked.
type QueryError string

func (e QueryError) Error() string { return string(e) }

// Service is a service (a flow) on line, for the count of services on
// line and the names in the report.
type Service struct {
	ID, Institution string
	Title           Names
}

// Names are a name per locale ("es", "en", "qu").
type Names map[string]string

// in is the name in lang, else in def, else "".
func (n Names) in(lang, def string) string {
	if s := n[lang]; s != "" {
		return s
	}
	return n[def]
}

// Publisher makes reports from a store.
type Publisher struct {
	Store Store
	// K is the least count of a published cell (default 10).
	K int64
	// Services lists the flows on line now (but the root menu), for the
	// titles in the report.
	Services func() []Service
	// Offered counts the services each institution offers now: its live
	// catalogue entries, drafts left out. Without it (flows given without
	// packages) the services on line are the flows.
	Offered func() map[string]int
	// ServiceOwner names the institution of a back-end service, for the
	// calls counted before calls carried their institution.
	ServiceOwner func(service string) string
	// Institutions names the institutions loaded now (id → name per
	// locale). One counted but no longer loaded is named by its id.
	Institutions func() map[string]Names
	// Locales are the languages a report's names may be asked in
	// (?lang=); the first is the default (default "es").
	Locales []string
	// Licence and LicenceURL say how the figures may be reused.
	Licence, LicenceURL string
	// Publisher names who publishes them.
	Name string
	Now  func() time.Time
}

// DefaultK is the least count of a published cell unless configured.
const DefaultK = 10

// Default licence of the figures: open data, reuse with attribution.
const (
	DefaultLicence    = "CC-BY-4.0"
	DefaultLicenceURL = "https://creativecommons.org/licenses/by/4.0/"
)

// Report is what GET /v1/indicators answers.
type Report struct {
	From        string `json:"from"`
	To          string `json:"to"`
	Granularity string `json:"granularity"`
	Institution string `json:"institution,omitempty"`
	// InstitutionName is Institution's name in Lang.
	InstitutionName string `json:"institution_name,omitempty"`
	// Lang is the language of the names and titles.
	Lang           string    `json:"lang"`
	Generated      time.Time `json:"generated"`
	K              int64     `json:"k"`
	Publisher      string    `json:"publisher,omitempty"`
	Licence        string    `json:"licence"`
	LicenceURL     string    `json:"licence_url"`
	ServicesOnline int       `json:"services_online"`
	// InstitutionsOnline counts the institutions offering at least one.
	InstitutionsOnline int `json:"institutions_online"`

	Total        Figures `json:"total"`
	Periods      []Row   `json:"periods"`
	Services     []Row   `json:"services"`
	Institutions []Row   `json:"institutions"`
	Channels     []Row   `json:"channels"`
	Carriers     []Row   `json:"carriers"`
	Locales      []Row   `json:"locales"`
	// Back-end calls: all of them (or the institution's), per
	// institution (the service's owner) and per service.
	BackendTotal        BackendRow    `json:"backend_total"`
	BackendInstitutions []BackendRow  `json:"backend_institutions"`
	Backends            []BackendRow  `json:"backends"`
	Withheld            WithheldCount `json:"withheld"`
}

// Row is the figures of one service, institution, channel, carrier,
// locale or period.
type Row struct {
	Key string `json:"key"`
	// Name is an institution's name, in the report's language (its id
	// when no loaded package names it): institutions.
	Name        string `json:"name,omitempty"`
	Institution string `json:"institution,omitempty"` // services
	// InstitutionName is Institution's name, as Name: services.
	InstitutionName string `json:"institution_name,omitempty"`
	Channel         string `json:"channel,omitempty"` // carriers
	Title           string `json:"title,omitempty"`   // services, in the report's language
	Figures
}

// Figures are the figures of one row; see docs/indicators.md.
type Figures struct {
	Started        int64    `json:"conversations_started"`
	Completed      int64    `json:"tramites_completed"`
	CompletionRate *float64 `json:"completion_rate"`
	MedianHops     *int     `json:"median_hops"`
	MedianSeconds  *int     `json:"median_seconds"`
	// Abandoned counts, per step, the conversations left there.
	Abandoned    map[string]int64 `json:"abandoned_at,omitempty"`
	Satisfaction Satisfaction     `json:"satisfaction"`
	Reminders    Reminders        `json:"reminders"`
}

// Satisfaction summarises the ratings of a row.
type Satisfaction struct {
	Count int64 `json:"count"`
	// Mean of the scores, 1–5.
	Mean *float64 `json:"mean"`
	// Distribution counts the ratings of each score, 1 to 5.
	Distribution [5]int64 `json:"distribution"`
	// Index is the perception index: the share of ratings of 4 or 5, in
	// percent.
	Index *float64 `json:"perception_index"`
	// Scale10 is the mean on the 0–10 scale of the national plan's
	// perception index: (mean − 1) × 2.5, so 1 is 0 and 5 is 10.
	Scale10 *float64 `json:"mean_0_10"`
}

// Reminders counts what came of the reminders of a row.
type Reminders struct {
	Sent      int64 `json:"sent"`
	Confirmed int64 `json:"confirmed"`
	Cancelled int64 `json:"cancelled"`
}

// BackendRow is the outcomes of the back-end calls of one service, of
// one institution's services (Service empty), or of all (both empty).
type BackendRow struct {
	Service     string `json:"service,omitempty"`
	Institution string `json:"institution,omitempty"`
	// InstitutionName is Institution's name, as Row.Name.
	InstitutionName string             `json:"institution_name,omitempty"`
	Calls           int64              `json:"calls"`
	Outcomes        map[string]float64 `json:"outcome_shares"`
}

// WithheldCount is what the published rows of each table leave out of
// the total, withheld so that no cell counts fewer than k.
type WithheldCount struct {
	Conversations map[string]int64 `json:"conversations"`
	Ratings       map[string]int64 `json:"ratings"`
	Reminders     map[string]int64 `json:"reminders"`
	// Calls are back-end calls, withheld from "institutions" (the
	// backend_institutions table) and "backends" (the services').
	Calls map[string]int64 `json:"calls"`
}

// atom is the counts of one cell of a table on one day, before anything
// is withheld.
type atom struct {
	started, completed int64
	abandoned          map[string]int64
	hops, secs         map[string]int64
	ratings            [5]int64
	sent, confirmed    int64
	cancelled          int64
	institution        string
	channel            string
}

func (a *atom) add(c Cell, n int64) {
	name, arg, _ := strings.Cut(c.Metric, ":")
	switch name {
	case MetricStarted:
		a.started += n
	case MetricCompleted:
		a.completed += n
	case MetricAbandoned:
		if a.abandoned == nil {
			a.abandoned = map[string]int64{}
		}
		a.abandoned[arg] += n
	case MetricHops:
		if a.hops == nil {
			a.hops = map[string]int64{}
		}
		a.hops[arg] += n
	case MetricSeconds:
		if a.secs == nil {
			a.secs = map[string]int64{}
		}
		a.secs[arg] += n
	case MetricRating:
		if s, err := strconv.Atoi(arg); err == nil && s >= 1 && s <= 5 {
			a.ratings[s-1] += n
		}
	case MetricReminder:
		switch arg {
		case ReminderSent:
			a.sent += n
		case ReminderConfirmed:
			a.confirmed += n
		case ReminderCancelled:
			a.cancelled += n
		}
	}
}

func (a *atom) ratingCount() int64 {
	var n int64
	for _, v := range a.ratings {
		n += v
	}
	return n
}

// acc adds up the published parts of atoms into a row.
type acc struct {
	Figures
	hops, secs map[string]int64
}

func (r *acc) addConversations(a *atom) {
	r.Started += a.started
	r.Completed += a.completed
	for s, n := range a.abandoned {
		if r.Abandoned == nil {
			r.Abandoned = map[string]int64{}
		}
		r.Abandoned[s] += n
	}
	r.hops = addMap(r.hops, a.hops)
	r.secs = addMap(r.secs, a.secs)
}

func (r *acc) addRatings(a *atom) {
	for i, v := range a.ratings {
		r.Satisfaction.Distribution[i] += v
		r.Satisfaction.Count += v
	}
}

func (r *acc) addReminders(a *atom) {
	r.Reminders.Sent += a.sent
	r.Reminders.Confirmed += a.confirmed
	r.Reminders.Cancelled += a.cancelled
}

func addMap(dst, src map[string]int64) map[string]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]int64{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

// finish works out the rates and medians of a row.
func (r *acc) finish() Figures {
	f := r.Figures
	if f.Started > 0 {
		rate := float64(f.Completed) / float64(f.Started)
		f.CompletionRate = &rate
	}
	f.MedianHops = median(r.hops, hopBuckets)
	f.MedianSeconds = median(r.secs, secondBuckets)
	s := &f.Satisfaction
	if s.Count > 0 {
		var sum, top int64
		for i, v := range s.Distribution {
			sum += int64(i+1) * v
			if i >= 3 {
				top += v
			}
		}
		mean := float64(sum) / float64(s.Count)
		index := 100 * float64(top) / float64(s.Count)
		scale10 := (mean - 1) * 2.5
		s.Mean, s.Index, s.Scale10 = &mean, &index, &scale10
	}
	return f
}

// median is the bound of the histogram bucket that holds the median.
func median(h map[string]int64, bounds []int) *int {
	var n int64
	for _, v := range h {
		n += v
	}
	if n == 0 {
		return nil
	}
	var seen int64
	for _, b := range bounds {
		seen += h[strconv.Itoa(b)]
		if 2*seen >= n {
			return &b
		}
	}
	last := bounds[len(bounds)-1] + 1 // past the last bucket
	return &last
}

// table is a one-way breakdown: the key of a cell's dims in it.
type table struct {
	name string
	key  func(Dims) string
}

var tables = []table{
	{"services", func(d Dims) string { return d.Flow }},
	{"carriers", func(d Dims) string { return d.Channel + "/" + d.Carrier }},
	{"locales", func(d Dims) string { return d.Locale }},
}

// Report reads the counts of q's days and publishes them, withholding
// small cells (see withhold). The unit withheld is a day's cell of a
// table: every figure published is a sum of cells each counting at
// least k, so no choice of from, to or granularity, and no difference
// of two reports, tells a withheld cell apart.
func (p *Publisher) Report(ctx context.Context, q Query) (*Report, error) {
	if q.To.Before(q.From) {
		return nil, QueryError(fmt.Sprintf("to (%s) is before from (%s)", q.To.Format(DayLayout), q.From.Format(DayLayout)))
	}
	days := Days(q.From, q.To)
	if len(days) > MaxDays {
		return nil, QueryError(fmt.Sprintf("%d days asked for; at most %d in one report", len(days), MaxDays))
	}
	switch q.Granularity {
	case "":
		q.Granularity = Day
	case Day, Week, Month:
	default:
		return nil, QueryError(fmt.Sprintf("granularity=%q: day, week or month", q.Granularity))
	}
	if err := p.checkInstitution(ctx, q); err != nil {
		return nil, err
	}
	cells, err := p.Store.Read(ctx, days)
	if err != nil {
		return nil, err
	}
	k := p.K
	if k <= 0 {
		k = DefaultK
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	r := &Report{
		From: days[0], To: days[len(days)-1], Granularity: q.Granularity, Institution: q.Institution, Generated: now().UTC().Truncate(time.Second),
		K: k, Publisher: p.Name, Licence: p.Licence, LicenceURL: p.LicenceURL,
		Withheld: WithheldCount{Conversations: map[string]int64{}, Ratings: map[string]int64{}, Reminders: map[string]int64{}, Calls: map[string]int64{}},
	}
	if r.Licence == "" {
		r.Licence, r.LicenceURL = DefaultLicence, DefaultLicenceURL
	}
	lang := q.Lang
	if lang == "" {
		lang = p.defaultLang()
	}
	r.Lang = lang
	var names map[string]Names
	if p.Institutions != nil {
		names = p.Institutions()
	}
	name := func(inst string) string {
		if n := names[inst].in(lang, p.defaultLang()); n != "" {
			return n
		}
		return inst
	}
	if q.Institution != "" {
		r.InstitutionName = name(q.Institution)
	}
	titles := map[string]Service{}
	offered := map[string]int{}
	if p.Offered != nil {
		offered = p.Offered()
	}
	if p.Services != nil {
		svcs := p.Services()
		for _, s := range svcs {
			titles[s.ID] = s
			if p.Offered == nil {
				offered[s.Institution]++
			}
		}
	}
	for inst, n := range offered {
		if n > 0 && (q.Institution == "" || q.Institution == inst) {
			r.ServicesOnline += n
			if inst != "" {
				r.InstitutionsOnline++
			}
		}
	}

	// Per day: the day's own total, each institution's, and each table's
	// cells within each institution.
	type instAtoms struct {
		total  atom
		tables []map[string]*atom
	}
	type dayAtoms struct {
		total atom
		insts map[string]*instAtoms
		calls dayCalls
	}
	byDay := map[string]*dayAtoms{}
	for c, n := range cells {
		da := byDay[c.Day]
		if da == nil {
			da = &dayAtoms{insts: map[string]*instAtoms{}}
			byDay[c.Day] = da
		}
		if name, arg, _ := strings.Cut(c.Metric, ":"); name == MetricCall {
			i := strings.LastIndexByte(arg, ':')
			if i < 0 {
				continue
			}
			svc, inst := arg[:i], c.Dims.Institution
			if inst == "" && p.ServiceOwner != nil {
				inst = p.ServiceOwner(svc)
			}
			da.calls.add(inst, svc, arg[i+1:], n)
			continue
		}
		da.total.add(c, n)
		ia := da.insts[c.Dims.Institution]
		if ia == nil {
			ia = &instAtoms{tables: make([]map[string]*atom, len(tables))}
			for i := range ia.tables {
				ia.tables[i] = map[string]*atom{}
			}
			da.insts[c.Dims.Institution] = ia
		}
		ia.total.add(c, n)
		for i, t := range tables {
			key := t.key(c.Dims)
			a := ia.tables[i][key]
			if a == nil {
				a = &atom{institution: c.Dims.Institution, channel: c.Dims.Channel}
				ia.tables[i][key] = a
			}
			a.add(c, n)
		}
	}

	total := &acc{}
	periods := map[string]*acc{}
	rows := make([]map[string]*acc, len(tables))
	for i := range rows {
		rows[i] = map[string]*acc{}
	}
	institutions, channels := map[string]*acc{}, map[string]*acc{}
	inst, chans := map[string]string{}, map[string]string{}
	calls := callRows{withheld: r.Withheld.Calls}
	kinds := []struct {
		count    func(*atom) int64
		add      func(*acc, *atom)
		withheld map[string]int64
	}{
		{func(a *atom) int64 { return a.started }, (*acc).addConversations, r.Withheld.Conversations},
		{(*atom).ratingCount, (*acc).addRatings, r.Withheld.Ratings},
		{func(a *atom) int64 { return a.sent }, (*acc).addReminders, r.Withheld.Reminders},
	}
	row := func(m map[string]*acc, key string) *acc {
		a := m[key]
		if a == nil {
			a = &acc{}
			m[key] = a
		}
		return a
	}
	for _, day := range days {
		da := byDay[day]
		if da == nil {
			continue
		}
		pa := row(periods, periodOf(day, q.Granularity))
		names := sortedKeys(da.insts)
		for _, kind := range kinds {
			// The day's total is a cell too: published when it counts k.
			if q.Institution == "" && kind.count(&da.total) >= k {
				kind.add(total, &da.total)
				kind.add(pa, &da.total)
			}
			// Institutions are the first level: each counting fewer
			// than k is withheld, with complementary ones, so that the
			// day's total minus the published institutions is nothing
			// or at least k.
			counts := make([]int64, len(names))
			for j, name := range names {
				counts[j] = kind.count(&da.insts[name].total)
			}
			hidden, totalHidden := withhold(counts, k)
			for j, name := range names {
				shown := q.Institution == "" || q.Institution == name
				if hidden[j] {
					if shown && !totalHidden && q.Institution == "" {
						kind.withheld["institutions"] += counts[j]
						for _, t := range tables {
							kind.withheld[t.name] += counts[j]
						}
					}
					continue
				}
				if counts[j] == 0 || !shown {
					continue
				}
				ia := da.insts[name]
				kind.add(row(institutions, name), &ia.total)
				if q.Institution != "" {
					kind.add(total, &ia.total)
					kind.add(pa, &ia.total)
				}
				// Within a published institution, each table's cells
				// are withheld against the institution's own total: the
				// institution minus its published rows is nothing or at
				// least k, as the day's total minus its institutions is.
				for i, t := range tables {
					keys := sortedKeys(ia.tables[i])
					cc := make([]int64, len(keys))
					for x, key := range keys {
						cc[x] = kind.count(ia.tables[i][key])
					}
					h, _ := withhold(cc, k)
					for x, key := range keys {
						a := ia.tables[i][key]
						if h[x] {
							kind.withheld[t.name] += cc[x]
							continue
						}
						if cc[x] == 0 {
							continue
						}
						kind.add(row(rows[i], key), a)
						switch t.name {
						case "services":
							inst[key] = a.institution
						case "carriers":
							chans[key] = a.channel
							kind.add(row(channels, a.channel), a)
						}
					}
				}
			}
		}
		calls.addDay(&da.calls, q.Institution, k)
	}

	r.Total = total.finish()
	for _, key := range sortedKeys(periods) {
		r.Periods = append(r.Periods, Row{Key: key, Figures: periods[key].finish()})
	}
	for i, t := range tables {
		for _, key := range sortedKeys(rows[i]) {
			row := Row{Key: key, Figures: rows[i][key].finish()}
			switch t.name {
			case "services":
				row.Institution = inst[key]
				if s, ok := titles[key]; ok {
					row.Title = s.Title.in(lang, p.defaultLang())
					if row.Institution == "" {
						row.Institution = s.Institution
					}
				}
				if row.Institution != "" {
					row.InstitutionName = name(row.Institution)
				}
				r.Services = append(r.Services, row)
			case "carriers":
				row.Channel = chans[key]
				_, row.Key, _ = strings.Cut(key, "/")
				r.Carriers = append(r.Carriers, row)
			case "locales":
				r.Locales = append(r.Locales, row)
			}
		}
	}
	for _, key := range sortedKeys(institutions) {
		r.Institutions = append(r.Institutions, Row{Key: key, Name: name(key), Figures: institutions[key].finish()})
	}
	for _, key := range sortedKeys(channels) {
		r.Channels = append(r.Channels, Row{Key: key, Figures: channels[key].finish()})
	}
	r.BackendTotal = calls.total.row("", "")
	for _, inst := range sortedKeys(calls.insts) {
		row := calls.insts[inst].row("", inst)
		row.InstitutionName = name(inst)
		r.BackendInstitutions = append(r.BackendInstitutions, row)
	}
	for _, key := range sortedKeys(calls.services) {
		inst, svc, _ := strings.Cut(key, sep)
		row := calls.services[key].row(svc, inst)
		if inst != "" {
			row.InstitutionName = name(inst)
		}
		r.Backends = append(r.Backends, row)
	}
	return r, nil
}

// checkInstitution refuses a report narrowed to an institution nobody
// knows: neither a loaded one nor one with published rows in the whole
// report of the same days (a package removed since, whose figures still
// show). Only published rows count, so the answer tells nothing of a
// withheld institution.
func (p *Publisher) checkInstitution(ctx context.Context, q Query) error {
	if q.Institution == "" {
		return nil
	}
	var known []string
	if p.Services != nil {
		for _, s := range p.Services() {
			known = append(known, s.Institution)
		}
	}
	if p.Institutions != nil {
		for id := range p.Institutions() {
			known = append(known, id)
		}
	}
	if (p.Services == nil && p.Institutions == nil) || slices.Contains(known, q.Institution) {
		return nil
	}
	all := q
	all.Institution = ""
	r, err := p.Report(ctx, all)
	if err != nil {
		return err
	}
	for _, row := range r.Institutions {
		known = append(known, row.Key)
	}
	for _, row := range r.BackendInstitutions {
		known = append(known, row.Institution)
	}
	if slices.Contains(known, q.Institution) {
		return nil
	}
	slices.Sort(known)
	known = slices.Compact(known)
	if len(known) > 0 && known[0] == "" {
		known = known[1:]
	}
	if s := suggest.Closest(q.Institution, known); s != "" {
		return QueryError(fmt.Sprintf("institution=%q: no such institution (did you mean %q?)", q.Institution, s))
	}
	return QueryError(fmt.Sprintf("institution=%q: no such institution (known: %s)", q.Institution, strings.Join(known, ", ")))
}

// defaultLang is the language of a report that asks for none.
func (p *Publisher) defaultLang() string {
	if len(p.Locales) > 0 {
		return p.Locales[0]
	}
	return "es"
}

// periodOf names the period of a day.
func periodOf(day, granularity string) string {
	t, err := time.Parse(DayLayout, day)
	if err != nil {
		return day
	}
	switch granularity {
	case Week:
		wd := (int(t.Weekday()) + 6) % 7 // Monday 0
		return t.AddDate(0, 0, -wd).Format(DayLayout)
	case Month:
		return t.Format("2006-01")
	}
	return day
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
