package loadgen

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Report is a bench: the run against the gateway and, on the same machine
// with the same client and settings, the run against the baseline.
type Report struct {
	Scenario    string  `json:"scenario"`
	Carrier     string  `json:"carrier"`
	Citizens    int     `json:"citizens"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate"`               // hops/s asked for; 0: closed loop
	Duration    float64 `json:"duration_s"`         // the run's bound
	Sessions    int     `json:"sessions,omitempty"` // conversations asked for
	Go          string  `json:"go"`
	CPUs        int     `json:"cpus"`
	MaxProcs    int     `json:"gomaxprocs"`
	// LoadBefore is the machine's load average before the runs (see
	// LoadAverage): whether something else was competing for the CPUs.
	LoadBefore string  `json:"load_before,omitempty"`
	Gateway    *Result `json:"gateway"`
	Baseline   *Result `json:"baseline,omitempty"`
	// Ratio is the gateway's hops per second over the baseline's.
	Ratio float64 `json:"ratio,omitempty"`
}

// NewReport describes a bench of cfg on this machine.
func NewReport(cfg Config, gateway, baseline *Result) *Report {
	r := &Report{
		Scenario:    cfg.Scenario.Name,
		Carrier:     cfg.Carrier.Name(),
		Citizens:    cfg.Citizens,
		Concurrency: min(cfg.Concurrency, cfg.Citizens),
		Rate:        cfg.Rate,
		Duration:    cfg.Duration.Seconds(),
		Sessions:    cfg.Sessions,
		Go:          runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		CPUs:        runtime.NumCPU(),
		MaxProcs:    runtime.GOMAXPROCS(0),
		Gateway:     gateway,
		Baseline:    baseline,
	}
	if baseline != nil && baseline.HopsPerSecond > 0 {
		r.Ratio = gateway.HopsPerSecond / baseline.HopsPerSecond
	}
	return r
}

// WriteText writes the report as a table for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	pace := "closed loop (each worker sends its next hop as soon as the last is answered)"
	if r.Rate > 0 {
		pace = fmt.Sprintf("open loop at %g hops/s (a hop sent late counts from when it was due)", r.Rate)
	}
	fmt.Fprintf(&b, "scenario %s over %s: %d citizens, %d workers, %s\n", r.Scenario, r.Carrier, r.Citizens, r.Concurrency, pace)
	fmt.Fprintf(&b, "machine: %s, %d CPUs, GOMAXPROCS %d", r.Go, r.CPUs, r.MaxProcs)
	if r.LoadBefore != "" {
		fmt.Fprintf(&b, ", load average %s before the runs", r.LoadBefore)
	}
	fmt.Fprint(&b, "; the client shares it with the target\n")
	if f := strings.Fields(r.LoadBefore); len(f) > 0 {
		if load, err := strconv.ParseFloat(f[0], 64); err == nil && load > float64(r.CPUs) {
			fmt.Fprintf(&b, "warning: other work was keeping more than %d CPUs busy; expect noisy numbers, and a noisy ratio\n", r.CPUs)
		}
	}
	fmt.Fprintln(&b)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	cols := []*Result{r.Gateway}
	fmt.Fprint(tw, "\tgateway\t")
	if r.Baseline != nil {
		cols = append(cols, r.Baseline)
		fmt.Fprint(tw, "baseline\t")
	}
	fmt.Fprintln(tw)
	row := func(name string, f func(*Result) string) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, c := range cols {
			fmt.Fprintf(tw, "%s\t", f(c))
		}
		fmt.Fprintln(tw)
	}
	row("elapsed", func(c *Result) string { return fmt.Sprintf("%.2f s", c.Elapsed) })
	row("conversations", func(c *Result) string { return fmt.Sprint(c.Conversations) })
	row("hops", func(c *Result) string { return fmt.Sprint(c.Hops) })
	row("hops/s", func(c *Result) string { return fmt.Sprintf("%.1f", c.HopsPerSecond) })
	row("latency p50", func(c *Result) string { return ms(c.Latency.P50) })
	row("p90", func(c *Result) string { return ms(c.Latency.P90) })
	row("p99", func(c *Result) string { return ms(c.Latency.P99) })
	row("p99.9", func(c *Result) string { return ms(c.Latency.P999) })
	row("max", func(c *Result) string { return ms(c.Latency.Max) })
	row("errors", func(c *Result) string { return fmt.Sprint(c.Errors) })
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(&b, "\ngateway  %s\n", r.Gateway.URL)
	if r.Baseline != nil {
		fmt.Fprintf(&b, "baseline %s (bare net/http handler in a process of its own, as the gateway's; fixed reply; the same answers sent without reading the screens)\n", r.Baseline.URL)
		fmt.Fprintf(&b, "gateway/baseline: %.3f (hops/s)", r.Ratio)
		if r.Rate > 0 {
			fmt.Fprint(&b, "; both paced at the same rate, so compare their latencies")
		}
		fmt.Fprintln(&b)
	}
	for _, c := range cols {
		if r.Rate > 0 && c.HopsPerSecond < 0.9*r.Rate {
			fmt.Fprintf(&b, "warning: %s reached %.1f of the %g hops/s asked for: saturated, or too few workers\n", c.URL, c.HopsPerSecond, r.Rate)
		}
		if c.Interrupted {
			fmt.Fprintf(&b, "warning: the run against %s was interrupted; these are partial results\n", c.URL)
		}
	}
	if r.Gateway.Cut > 0 {
		fmt.Fprintf(&b, "conversations cut short by the end of the run: %d\n", r.Gateway.Cut)
	}
	if len(r.Gateway.Detours) > 0 {
		fmt.Fprintf(&b, "detours (screens the scenario allows besides the expected one): %s\n", counts(r.Gateway.Detours))
	}
	for _, c := range cols {
		if c.Errors == 0 {
			continue
		}
		fmt.Fprintf(&b, "\nerrors against %s by kind: %s\n", c.URL, counts(c.ErrorsByKind))
		for _, s := range c.Samples {
			fmt.Fprintf(&b, "  %s: script %s, %s, session %s, sent %q\n", s.Kind, s.Script, s.Phone, s.Session, s.Sent)
			if s.Want != "" {
				fmt.Fprintf(&b, "    want %s\n", s.Want)
			}
			if s.Got != "" {
				fmt.Fprintf(&b, "    got  %q\n", s.Got)
			}
			if s.Err != "" {
				fmt.Fprintf(&b, "    err  %s\n", s.Err)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// LoadAverage returns the load averages over 1, 5 and 15 minutes as
// /proc/loadavg gives them, or "" where there is no such file.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func ms(us int64) string { return fmt.Sprintf("%.3f ms", float64(us)/1000) }

// counts lists name=count pairs, the largest count first.
func counts(m map[string]int64) string {
	names := slices.Collect(maps.Keys(m))
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), strings.Compare(a, b))
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, m[n])
	}
	return strings.Join(parts, ", ")
}
