package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/indicators"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// cmdIndicators prints the published indicators: those of a running
// gateway (--url, its GET /v1/indicators), or read from the Redis a
// gateway counts into (serve's --queue-redis-url or --redis-url) and
// withheld with the same k. A gateway without Redis keeps its counts in
// its own memory: only --url reaches them.
func cmdIndicators(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flagSet("indicators", stderr, &c)
	gateway := fs.String("url", "", "a running gateway's address (http://host:8080): print its GET /v1/indicators; without it, read serve's Redis")
	from := fs.String("from", "", "first day, YYYY-MM-DD (default: 29 days before --to)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (default: today in --zone)")
	granularity := fs.String("granularity", indicators.Day, "periods: day, week or month")
	format := fs.String("format", "table", "table, json or csv")
	inst := fs.String("institution", "", "one institution's figures (a key of the institutions table)")
	service := fs.String("service", "", "one service's row (a flow id)")
	lang := fs.String("lang", "", "the language of institutions' and services' names: es, en or qu (default es)")
	if err := parseFlags(fs, args, &c); err != nil {
		return 2
	}
	formats := []string{"table", "json", "csv"}
	if !slices.Contains(formats, *format) {
		fmt.Fprintf(stderr, "indicators: --format %q: table, json or csv%s\n", *format, didYouMean(*format, formats))
		return 2
	}
	v := url.Values{}
	for name, val := range map[string]string{"from": *from, "to": *to, "granularity": *granularity, "institution": *inst, "lang": *lang} {
		if val != "" {
			v.Set(name, val)
		}
	}
	var (
		rep *indicators.Report
		err error
	)
	if *gateway != "" {
		rep, err = fetchIndicators(ctx, *gateway, v)
	} else {
		rep, err = c.readIndicators(ctx, fs, v)
	}
	if err != nil {
		fmt.Fprintf(stderr, "indicators: %v\n", err)
		var q indicators.QueryError
		if errors.As(err, &q) {
			return 2
		}
		return 1
	}
	if *service != "" {
		if err := narrowToService(rep, *service); err != nil {
			fmt.Fprintf(stderr, "indicators: %v\n", err)
			return 2
		}
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	case "csv":
		_ = indicators.WriteCSV(stdout, rep)
	default:
		printIndicators(stdout, rep)
	}
	return 0
}

func didYouMean(s string, known []string) string {
	if m := suggest.Closest(s, known); m != "" {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}

// fetchIndicators asks a running gateway for its report.
func fetchIndicators(ctx context.Context, base string, v url.Values) (*indicators.Report, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, indicators.QueryError(fmt.Sprintf("--url %q: a gateway's address, http://host:port", base))
	}
	v.Set("format", "json")
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/indicators"
	u.RawQuery = v.Encode()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	switch {
	case res.StatusCode == http.StatusBadRequest:
		return nil, indicators.QueryError(strings.TrimSpace(string(body)))
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: %s: %s", u.Redacted(), res.Status, strings.TrimSpace(string(body)))
	}
	var r indicators.Report
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s: not a report: %w", u.Redacted(), err)
	}
	return &r, nil
}

// readIndicators reads the counts where serve keeps them and publishes
// them as the gateway would, with the services of the configured flows.
func (c *config) readIndicators(ctx context.Context, fs *flag.FlagSet, v url.Values) (*indicators.Report, error) {
	addr := c.QueueRedisURL
	if addr == "" {
		addr = c.RedisURL
	}
	if addr == "" {
		return nil, errors.New("no Redis given (--queue-redis-url or --redis-url, as serve has them); a gateway without Redis keeps its counts in its memory: ask it with --url")
	}
	client, err := redisClient(addr)
	if err != nil {
		return nil, fmt.Errorf("Redis %q: %w", addr, err)
	}
	defer client.Close()
	zone, err := time.LoadLocation(c.Zone)
	if err != nil {
		return nil, indicators.QueryError(fmt.Sprintf("--zone %q: %v", c.Zone, err))
	}
	msgs, err := c.catalog()
	if err != nil {
		return nil, err
	}
	a := &app{cfg: c, msgs: msgs}
	b, problems, err := c.loadBundle(fs.Args(), msgs, os.LookupEnv, false, "", nil, nil)
	if err != nil {
		return nil, err
	}
	if problems.HasErrors() {
		return nil, errors.New(problems.Error())
	}
	a.flows.Store(b.reg)
	if b.set != nil {
		a.set.Store(b.set)
		owners, services := b.set.Owners()
		a.flowOwners.Store(&owners)
		a.serviceOwners.Store(&services)
	}
	pub := &indicators.Publisher{
		Store: indicators.NewRedis(client, 0), K: int64(c.IndicatorsK), Name: c.IndicatorsPublisher,
		Licence: c.IndicatorsLicence, LicenceURL: c.IndicatorsLicenceURL, Services: a.services, ServiceOwner: a.serviceOwner,
		Institutions: a.institutionNames, Locales: msgs.Locales(), Offered: a.offered,
	}
	q, _, err := pub.ParseQuery(v, "", zone)
	if err != nil {
		return nil, indicators.QueryError(err.Error())
	}
	return pub.Report(ctx, q)
}

// narrowToService keeps one service's row, as the report's total: the
// figures are published per service, but not its periods or carriers.
func narrowToService(r *indicators.Report, service string) error {
	var keys []string
	for _, row := range r.Services {
		if row.Key == service {
			r.Services = []indicators.Row{row}
			r.Total = row.Figures
			r.Periods, r.Institutions, r.Channels, r.Carriers, r.Locales, r.Backends, r.BackendInstitutions = nil, nil, nil, nil, nil, nil, nil
			r.BackendTotal = indicators.BackendRow{}
			return nil
		}
		keys = append(keys, row.Key)
	}
	return fmt.Errorf("--service %q: no published figures for it in this report%s", service, didYouMean(service, keys))
}

// printIndicators writes the report as tables, one line a row.
func printIndicators(w io.Writer, r *indicators.Report) {
	fmt.Fprintf(w, "from %s to %s by %s", r.From, r.To, r.Granularity)
	if r.Institution != "" {
		fmt.Fprintf(w, ", institution %s", r.Institution)
		if r.InstitutionName != "" && r.InstitutionName != r.Institution {
			fmt.Fprintf(w, " (%s)", r.InstitutionName)
		}
	}
	fmt.Fprintf(w, "; cells under %d withheld; licence %s; %d services online", r.K, r.Licence, r.ServicesOnline)
	if r.Institution == "" {
		fmt.Fprintf(w, " from %d institutions", r.InstitutionsOnline)
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	// NAME is last and left out of the columns: names are long, and a
	// table read by a script splits on the first columns.
	fmt.Fprintln(tw, "TABLE\tKEY\tSTARTED\tCOMPLETED\tRATE\tHOPS\tSECONDS\tRATINGS\tMEAN\tOF10\tINDEX\tREMINDED\tCONFIRMED\tCANCELLED\t  NAME")
	line := func(table, key string, f indicators.Figures, name string) {
		s := f.Satisfaction
		if name != "" {
			name = "  " + name
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", table, key, f.Started, f.Completed,
			pct(f.CompletionRate), intOr(f.MedianHops), intOr(f.MedianSeconds), s.Count, float1(s.Mean), float1(s.Scale10), float0(s.Index),
			f.Reminders.Sent, f.Reminders.Confirmed, f.Reminders.Cancelled, name)
	}
	line("total", "", r.Total, "")
	for _, t := range []struct {
		name string
		rows []indicators.Row
	}{{"period", r.Periods}, {"institution", r.Institutions}, {"service", r.Services}, {"channel", r.Channels}, {"carrier", r.Carriers}, {"language", r.Locales}} {
		for _, row := range t.rows {
			key := row.Key
			if row.Channel != "" {
				key = row.Channel + "/" + key
			}
			line(t.name, key, row.Figures, rowName(row))
		}
	}
	tw.Flush()
	if r.BackendTotal.Calls > 0 || len(r.BackendInstitutions) > 0 || len(r.Backends) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BACK-END\tINSTITUTION\tCALLS\tOUTCOMES\tNAME")
		line := func(service, inst string, b indicators.BackendRow) {
			var parts []string
			for _, o := range slices.Sorted(maps.Keys(b.Outcomes)) {
				parts = append(parts, fmt.Sprintf("%s %.0f%%", o, 100*b.Outcomes[o]))
			}
			name := b.InstitutionName
			if name == inst {
				name = ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", service, inst, b.Calls, strings.Join(parts, ", "), name)
		}
		if r.BackendTotal.Calls > 0 {
			line("(all)", "", r.BackendTotal)
		}
		for _, b := range r.BackendInstitutions {
			line("(all)", b.Institution, b)
		}
		for _, b := range r.Backends {
			line(b.Service, b.Institution, b)
		}
		tw.Flush()
	}
}

// rowName is what the NAME column shows of a row: an institution's name,
// a service's title and its institution's name; nothing where the name
// would only repeat the key.
func rowName(row indicators.Row) string {
	name := row.Name
	if row.Title != "" {
		name = row.Title
		if row.InstitutionName != "" {
			name += " — " + row.InstitutionName
		}
	}
	if name == row.Key {
		return ""
	}
	return name
}

func pct(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100**v)
}

func float1(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", *v)
}

func float0(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f", *v)
}

func intOr(v *int) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}
