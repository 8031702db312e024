package validate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/i18n"
	suggestpkg "github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// Spec is one validator as written in a flow, already decoded by the loader:
// e.g. {Kind: "range", Args: map[string]any{"min": 1, "max": 5}}. A "kind"
// key left in Args is ignored, so the loader may pass the whole YAML mapping.
type Spec struct {
	Kind string
	Args map[string]any
}

// Validator checks and normalises one answer. Validators are immutable once
// compiled and safe for concurrent use.
type Validator interface {
	// Check returns the normalised value to save (e.g. phone in E.164, date
	// as "2026-11-23", integer as int64) or a *Failure. Empty input fails
	// with i18n.ValidateRequired.
	Check(input string) (any, *Failure)
}

// Failure names the localised message id to show and its template data.
// Failures may be shared between calls and goroutines: treat them as
// read-only.
type Failure struct {
	MessageID string
	Data      map[string]any
}

// CompileError is a problem with one validator as written. Arg names the
// argument at fault ("kind" when the kind itself is wrong, "" when the
// problem is the validator as a whole) so the lint can point at it.
type CompileError struct {
	Kind string // the kind as written
	Arg  string
	Msg  string // starts with the argument's name when there is one
}

func (e *CompileError) Error() string {
	if e.Arg == "kind" {
		return e.Msg
	}
	return e.Kind + ": " + e.Msg
}

func argErrorf(kind, arg, format string, a ...any) *CompileError {
	return &CompileError{Kind: kind, Arg: arg, Msg: fmt.Sprintf(format, a...)}
}

// Compile builds a validator from a spec. Relative dates ("today") are
// evaluated with time.Now on every Check, in the process's local time zone
// (TZ=America/Guayaquil in Ecuador); see CompileWithClock.
func Compile(s Spec) (Validator, error) {
	return CompileWithClock(s, time.Now)
}

// CompileWithClock is Compile with the clock that relative date bounds are
// evaluated against. "today" is the calendar date of now() in now()'s own
// location, so pass a clock in the deployment's time zone.
func CompileWithClock(s Spec, now func() time.Time) (Validator, error) {
	if now == nil {
		now = time.Now
	}
	k := kindByName(s.Kind)
	if k == nil {
		names := make([]string, len(registry))
		for i := range registry {
			names[i] = registry[i].spec.Name
		}
		msg := fmt.Sprintf("unknown validator kind %q", s.Kind)
		if s.Kind == "" {
			msg = "missing validator kind"
		}
		return nil, &CompileError{Kind: s.Kind, Arg: "kind", Msg: msg + suggest(s.Kind, names) + "; known kinds: " + strings.Join(names, ", ")}
	}
	a, err := decodeArgs(&k.spec, s.Args)
	if err != nil {
		return nil, err
	}
	return k.build(a, now)
}

// required is the failure of every validator on empty input.
var required = &Failure{MessageID: i18n.ValidateRequired}

// args are the arguments of one spec after decodeArgs checked their names
// and types: integers are int64, dates and strings string, booleans bool.
// Absent arguments with a default hold the default.
type args struct {
	kind string
	vals map[string]any
}

func (a args) has(name string) bool { _, ok := a.vals[name]; return ok }

func (a args) int(name string) (int64, bool) {
	v, ok := a.vals[name].(int64)
	return v, ok
}

func (a args) str(name string) string {
	v, _ := a.vals[name].(string)
	return v
}

func (a args) bool(name string) bool {
	v, _ := a.vals[name].(bool)
	return v
}

func (a args) errorf(arg, format string, v ...any) error {
	return argErrorf(a.kind, arg, format, v...)
}

// decodeArgs checks raw arguments against the kind's ArgSpecs: unknown
// names, wrong types and missing required arguments. Errors come in sorted
// argument order so the lint's output is stable.
func decodeArgs(k *KindSpec, raw map[string]any) (args, error) {
	a := args{kind: k.Name, vals: make(map[string]any, len(k.Args))}
	names := make([]string, 0, len(raw))
	for name := range raw {
		if name != "kind" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		as := k.arg(name)
		if as == nil {
			known := make([]string, len(k.Args))
			for i := range k.Args {
				known[i] = k.Args[i].Name
			}
			msg := fmt.Sprintf("unknown argument %q", name) + suggest(name, known)
			if len(known) == 0 {
				msg += "; " + k.Name + " takes no arguments"
			} else {
				msg += "; known: " + strings.Join(known, ", ")
			}
			return a, argErrorf(k.Name, name, "%s", msg)
		}
		v, err := convertArg(as.Type, raw[name])
		if err != nil {
			return a, argErrorf(k.Name, name, "%s must be %s, got %s", name, err.Error(), describe(raw[name]))
		}
		a.vals[name] = v
	}
	for _, as := range k.Args {
		if _, ok := a.vals[as.Name]; ok {
			continue
		}
		if as.Required {
			return a, argErrorf(k.Name, as.Name, "%s is required", as.Name)
		}
		if as.Default != nil {
			a.vals[as.Name] = as.Default
		}
	}
	return a, nil
}

// convertArg converts a YAML-decoded value to the Go type of an ArgSpec
// type. The error text completes "<arg> must be …".
func convertArg(typ string, v any) (any, error) {
	switch typ {
	case TypeInt:
		if n, ok := toInt64(v); ok {
			return n, nil
		}
		return nil, errors.New("an integer")
	case TypeBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, errors.New("true or false")
	case TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, errors.New("a string")
	case TypeDate:
		switch d := v.(type) {
		case string:
			return d, nil
		case time.Time: // an unquoted 2026-01-31 some YAML decoders turn into a timestamp
			return d.Format(time.DateOnly), nil
		}
		return nil, errors.New(`a date ("2026-01-31", "today", "today+30d", "today-18y")`)
	}
	return nil, fmt.Errorf("of unknown type %q", typ) // a bug in the registry, caught by tests
}

// toInt64 accepts every integral form a YAML or JSON decoder yields.
func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		return uintToInt64(uint64(n))
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return uintToInt64(n)
	case float32:
		return floatToInt64(float64(n))
	case float64:
		return floatToInt64(n)
	}
	return 0, false
}

func uintToInt64(n uint64) (int64, bool) {
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

func floatToInt64(f float64) (int64, bool) {
	// 2^63 itself is not representable as int64; -2^63 is.
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("the string %q", v)
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

// suggest returns ` (did you mean "x"?)` when a candidate is close to name.
func suggest(name string, candidates []string) string {
	if best := suggestpkg.Closest(name, candidates); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
