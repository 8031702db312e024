package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/loadgen"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

const benchUsage = `Usage: ventanilla bench [flags]

Drives a RUNNING gateway with simulated citizens over a carrier's callback
protocol, checks every reply, and reports hops per second and latency
percentiles. Then, on the same machine with the same client and settings,
it drives a bare net/http handler started in-process on 127.0.0.1 (the
baseline) and prints the ratio gateway/baseline.

Each citizen has its own number (+59399…) and runs whole conversations, one
at a time, each in a new session. Scenarios:
%s
Closed loop by default: every worker sends its next hop as soon as the last
is answered, which measures the maximum rate. --rate R paces R hops/s over
all workers instead (open loop), to measure latency at a given load, e.g.
at half the maximum; give it workers to spare (--concurrency well above
rate × latency), or hops queue behind slow ones and count as late.

Exit status: 0 when every gateway hop was answered as the scenario
expects, 1 when some were not (the report shows samples), 2 on bad flags.

Flags:
`

// maxSessionsRun bounds a run by --sessions when no --duration is given.
const maxSessionsRun = 5 * time.Minute

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		url          = fs.String("url", "http://127.0.0.1:8080", "the running gateway's base URL")
		carrierName  = fs.String("carrier", "africastalking", "carrier protocol to speak: "+strings.Join(benchCarrierNames(), ", "))
		scenarioName = fs.String("scenario", "browse", "browse, book, mixed or flood")
		citizens     = fs.Int("citizens", 100, "distinct simulated citizens (phone numbers)")
		concurrency  = fs.Int("concurrency", 8, "conversations in flight at once (at most --citizens)")
		duration     = fs.Duration("duration", 10*time.Second, "how long to run")
		sessions     = fs.Int("sessions", 0, "stop after this many conversations instead (bounded by --duration if given, else 5m)")
		rate         = fs.Float64("rate", 0, "hops per second over all workers, paced (open loop); 0 = as fast as answered (closed loop)")
		baselineFor  = fs.Duration("baseline-duration", 0, "how long to drive the baseline (default: as long as the gateway run)")
		noBaseline   = fs.Bool("no-baseline", false, "skip the baseline")
		asJSON       = fs.Bool("json", false, "print the report as JSON")
		timeout      = fs.Duration("timeout", 10*time.Second, "how long a hop may take before it counts as a timeout")
		serviceCode  = fs.String("service-code", "*384#", "the USSD code citizens dial")
		remote       = fs.Bool("allow-remote", false, "allow a --url that is not a loopback address")
		seed         = fs.Uint64("seed", 1, "seed for the errand mix")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, benchUsage, benchScenarioList())
		fs.PrintDefaults()
	}
	if err := applyEnv(fs, os.LookupEnv, nil); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	carrier, err := benchCarrier(*carrierName)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	scenario, err := benchScenario(*scenarioName)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	if *sessions > 0 && !flagGiven(fs, "duration") {
		*duration = maxSessionsRun
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "bench: --timeout: want a positive duration")
		return 2
	}

	client := loadgen.NewClient(*concurrency, *timeout, *remote)
	cfg := loadgen.Config{
		URL:         strings.TrimSuffix(*url, "/"),
		Carrier:     carrier,
		Scenario:    scenario,
		ServiceCode: *serviceCode,
		Citizens:    *citizens,
		Concurrency: *concurrency,
		Duration:    *duration,
		Sessions:    *sessions,
		Rate:        *rate,
		Client:      client,
		Seed:        *seed,
		Progress:    benchProgress(stderr, "gateway"),
	}
	load := loadgen.LoadAverage()
	gateway, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}

	var baseline *loadgen.Result
	if !*noBaseline && ctx.Err() == nil {
		url, stop, err := baselineProcess(carrier.Name())
		if err != nil {
			fmt.Fprintf(stderr, "bench: baseline: %v\n", err)
			return 1
		}
		bcfg := cfg
		bcfg.URL, bcfg.Blind, bcfg.Sessions = url, true, 0
		bcfg.Duration = *baselineFor
		if bcfg.Duration <= 0 {
			// As long as the gateway ran: --sessions makes that unknown beforehand.
			bcfg.Duration = min(*duration, time.Duration(gateway.Elapsed*float64(time.Second)))
		}
		bcfg.Progress = benchProgress(stderr, "baseline")
		baseline, err = loadgen.Run(ctx, bcfg)
		stop()
		if err != nil {
			fmt.Fprintf(stderr, "bench: baseline: %v\n", err)
			return 1
		}
	}

	report := loadgen.NewReport(cfg, gateway, baseline)
	report.LoadBefore = load
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else {
		err = report.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if gateway.Errors > 0 || gateway.Hops == 0 {
		return 1
	}
	return 0
}

// benchProgress prints one line a second while a run lasts.
func benchProgress(w io.Writer, target string) func(loadgen.Progress) {
	return func(p loadgen.Progress) {
		fmt.Fprintf(w, "%-8s %4.0fs  hops %8d  %8.1f/s  errors %d  p50 %s  p99 %s\n",
			target, p.Elapsed.Seconds(), p.Hops, p.Rate, p.Errors, p.P50, p.P99)
	}
}

func benchCarrier(name string) (loadgen.Carrier, error) {
	for _, c := range loadgen.Carriers() {
		if c.Name() == name {
			return c, nil
		}
	}
	return nil, benchUnknown("carrier", name, benchCarrierNames())
}

func benchCarrierNames() []string {
	var names []string
	for _, c := range loadgen.Carriers() {
		names = append(names, c.Name())
	}
	return names
}

func benchScenario(name string) (loadgen.Scenario, error) {
	var names []string
	for _, s := range loadgen.Scenarios() {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return loadgen.Scenario{}, benchUnknown("scenario", name, names)
}

func benchScenarioList() string {
	var b strings.Builder
	for _, s := range loadgen.Scenarios() {
		fmt.Fprintf(&b, "  %-7s %s\n", s.Name, s.Doc)
	}
	return b.String()
}

func benchUnknown(what, name string, names []string) error {
	if s := suggest.Closest(name, names); s != "" {
		return fmt.Errorf("--%s: unknown %q (did you mean %q?)", what, name, s)
	}
	return fmt.Errorf("--%s: unknown %q (known: %s)", what, name, strings.Join(names, ", "))
}

// flagGiven reports whether the flag was given on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
