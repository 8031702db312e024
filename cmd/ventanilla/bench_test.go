package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/loadgen"
)

// benchGateway is the product's router with a hop budget no loaded test
// machine exceeds: a hop over budget would end in an apology screen and
// count as an error, which these tests are not about.
func benchGateway(t *testing.T) string {
	return gatewayFor(t, &config{Budget: time.Minute}).URL
}

// A second of browsing against the product's own router, then the
// baseline: every hop answered as the scenario expects, and both runs in
// the report with their ratio.
func TestBenchBrowsesTheGateway(t *testing.T) {
	url := benchGateway(t)
	code, out, errs := runCLI(t, "", "bench", "--url", url, "--duration", "1s", "--citizens", "20", "--concurrency", "4", "--scenario", "browse")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	row := func(name string) []string {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(name) + `\s+(\S+)\s+(\S+)\s*$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %q row with two columns in\n%s", name, out)
		}
		return m[1:]
	}
	hops := row("hops")
	for i, target := range []string{"gateway", "baseline"} {
		if n, err := strconv.Atoi(hops[i]); err != nil || n <= 0 {
			t.Errorf("%s hops: %q", target, hops[i])
		}
	}
	if errors := row("errors"); errors[0] != "0" || errors[1] != "0" {
		t.Errorf("errors: gateway %s, baseline %s\n%s", errors[0], errors[1], out)
	}
	m := regexp.MustCompile(`gateway/baseline: (\d+\.\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no ratio in\n%s", out)
	}
	if ratio, _ := strconv.ParseFloat(m[1], 64); ratio <= 0 {
		t.Errorf("ratio %s", m[1])
	}
	if !strings.Contains(out, "first contact ") {
		t.Errorf("a citizen's first conversation starts with the language question, taken as a detour:\n%s", out)
	}
}

// The scenarios that go through the sample back-end: booking (racing for
// slots, then cancelling) and the mix, with a count of conversations.
func TestBenchScenariosThroughTheBackEnd(t *testing.T) {
	url := benchGateway(t)
	for _, scenario := range []string{"book", "mixed"} {
		t.Run(scenario, func(t *testing.T) {
			code, out, errs := runCLI(t, "", "bench", "--url", url, "--sessions", "40", "--citizens", "10", "--concurrency", "4",
				"--scenario", scenario, "--no-baseline", "--json")
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errs)
			}
			var r loadgen.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			g := r.Gateway
			if g.Errors != 0 || g.Conversations < 40 || g.Hops < 3*40 || r.Baseline != nil {
				t.Errorf("conversations %d, hops %d, errors %v %+v, baseline %v", g.Conversations, g.Hops, g.ErrorsByKind, g.Samples, r.Baseline != nil)
			}
		})
	}
}

func TestBenchRefusesUnknownNames(t *testing.T) {
	code, _, errs := runCLI(t, "", "bench", "--scenario", "brwose")
	if code != 2 || !strings.Contains(errs, `did you mean "browse"`) {
		t.Errorf("exit %d: %s", code, errs)
	}
	code, _, errs = runCLI(t, "", "bench", "--carrier", "twilio")
	if code != 2 || !strings.Contains(errs, "africastalking") {
		t.Errorf("exit %d: %s", code, errs)
	}
}
