package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// A rule says that no package matched by from may depend, directly or
// through others, on a package matched by any of forbidden. Patterns are
// import paths; a trailing "/..." also matches everything below; a path
// without a dot in its first element is relative to this module, and "..."
// alone is every package of the module.
type rule struct {
	from      string
	forbidden []string
	why       string
}

// heavy are the libraries a carrier adapter has no use for: they belong
// to the engine (expressions, state machine), the stores, the back-end
// calls and the citizen-facing messages.
var heavy = []string{
	"github.com/expr-lang/expr/...",
	"github.com/looplab/fsm/...",
	"github.com/redis/go-redis/...",
	"github.com/sony/gobreaker/...",
	"github.com/nicksnyder/go-i18n/...",
	"github.com/tidwall/gjson/...",
}

// rules are the directions of the imports. Add a rule here, in one line.
var rules = []rule{
	{"carriers/...", []string{"internal/gateway", "flows/...", "sessions/...", "interop/..."}, "a carrier adapter knows only the carrier contract (channels/carrier)"},
	{"carriers/...", heavy, "a carrier adapter compiles without the engine's, the stores' and the back-ends' libraries"},
	{"channels/carrier/...", append([]string{"internal/gateway", "flows/...", "sessions/...", "interop/..."}, heavy...), "the carrier contract is a leaf"},
	{"channels/sms/alphabet/...", append([]string{"internal/gateway", "flows/...", "sessions/...", "interop/..."}, heavy...), "the GSM-7 alphabet that carriers use is a leaf"},
	{"channels/telegram/...", append([]string{"internal/gateway", "flows/...", "sessions/...", "interop/...", "i18n"}, heavy...), "the Telegram adapter is a carrier: it keeps its chat links through an interface it declares"},
	{"i18n/locale/...", append([]string{"i18n"}, heavy...), "locale negotiation is a leaf that carrier adapters import"},
	{"channels/...", []string{"internal/gateway"}, "channel adapters and the outbound queue are mounted on the gateway in cmd, they do not import it"},
	{"flows/...", []string{"internal/gateway"}, "the engine knows nothing of the gateway that runs it"},
	{"sessions/...", []string{"internal/gateway"}, "stores know nothing of the gateway that uses them"},
	{"interop/...", []string{"internal/gateway"}, "back-end calls know nothing of the gateway"},
	{"flows/...", []string{"interop/...", "sessions/..."}, "the engine owns the interfaces it needs; back-end calls and stores plug into them"},
	{"internal/keys", []string{"..."}, "the store keys kept about a citizen are a leaf, shared by the gateway and the notification API"},
	{"internal/bearer", []string{"..."}, "the bearer token reader is a leaf"},
	{"internal/quiet", []string{"..."}, "quiet hours are a leaf that the engine's remind step and the reminders' scheduler share"},
	{"internal/metrics", []string{"..."}, "metrics is a leaf: the gateway, the engine and the back-end client report to it through interfaces they declare"},
	{"flows", []string{"github.com/redis/go-redis/...", "github.com/sony/gobreaker/...", "github.com/tidwall/gjson/..."}, "the engine compiles without the stores' and the back-ends' libraries"},
	{"conversation/...", append([]string{"..."}, heavy...), "the conversation state is a leaf that the engine and the gateway share"},
	{"...", []string{"internal/testutil", "internal/redistest", "internal/kanneltest", "internal/channelstest"}, "only tests import the test helpers"},
}

// exceptions are dependencies that break a rule today and are known: each
// is "from -> to", import paths relative to this module, and names a
// direct or indirect dependency of one package on another. The test fails
// when an exception is no longer needed, so that it is removed here.
var exceptions = []string{}

type pkg struct {
	ImportPath string
	Imports    []string // direct, non-test
	Deps       []string // transitive, non-test
	Module     *struct{ Path string }
}

func TestImportDirections(t *testing.T) {
	module, pkgs := list(t)
	rel := func(p string) string { return strings.TrimPrefix(p, module+"/") }
	abs := func(pattern string) string {
		if pattern == "..." { // every package of the module
			return module + "/..."
		}
		if first, _, _ := strings.Cut(pattern, "/"); !strings.Contains(first, ".") {
			return module + "/" + pattern
		}
		return pattern
	}

	used := map[string]bool{}
	for _, r := range rules {
		from := abs(r.from)
		matched := false
		for _, p := range pkgs {
			if !match(from, p.ImportPath) {
				continue
			}
			matched = true
			for _, f := range r.forbidden {
				for _, d := range p.Deps {
					if !match(abs(f), d) {
						continue
					}
					edge := rel(p.ImportPath) + " -> " + rel(d)
					if slices.Contains(exceptions, edge) {
						used[edge] = true
						continue
					}
					t.Errorf("%s: %s", edge, r.why)
				}
			}
		}
		if !matched {
			t.Errorf("rule %q matches no package: fix the pattern", r.from)
		}
	}
	for _, e := range exceptions {
		if !used[e] {
			t.Errorf("exception %q is no longer needed: remove it from the list", e)
		}
	}
}

// match reports whether import path p matches pattern, where a trailing
// "/..." matches the path itself and everything below it.
func match(pattern, p string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pattern
}

// list returns the module path and every package of the module with its
// transitive dependencies (non-test imports only).
func list(t *testing.T) (string, []pkg) {
	t.Helper()
	module := strings.TrimSpace(string(goList(t, "-m")))
	out := goList(t, "-json=ImportPath,Imports,Deps,Module", module+"/...")
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Module != nil && p.Module.Path == module {
			pkgs = append(pkgs, p)
		}
	}
	return module, pkgs
}

func goList(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return out
}
