package validate

import (
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

var (
	_ Validator = intRange{}
	_ Validator = pattern{}
	_ Validator = length{}
	_ Validator = digitString{}
)

// bounds are the optional min and max of range, length and digits.
type bounds struct {
	min, max       int64
	hasMin, hasMax bool
}

// readBounds reads min and max. Counts (of characters, of digits) cannot be
// negative, and a max of 0 would reject every answer.
func readBounds(a args, atLeastOne, count bool) (bounds, error) {
	var b bounds
	b.min, b.hasMin = a.int("min")
	b.max, b.hasMax = a.int("max")
	switch {
	case atLeastOne && !b.hasMin && !b.hasMax:
		return b, a.errorf("", "min or max is required")
	case count && b.hasMin && b.min < 0:
		return b, a.errorf("min", "min must not be negative")
	case count && b.hasMax && b.max < 1:
		return b, a.errorf("max", "max must be at least 1")
	case b.hasMin && b.hasMax && b.min > b.max:
		return b, a.errorf("min", "min %d is greater than max %d", b.min, b.max)
	}
	return b, nil
}

func (b bounds) contain(n int64) bool {
	return (!b.hasMin || n >= b.min) && (!b.hasMax || n <= b.max)
}

// countFailure is validate.length with the bounds a message can show. Min
// is at least 1 because an empty answer is never valid; Max is left out
// when there is none.
func (b bounds) countFailure() *Failure {
	data := map[string]any{"Min": max(b.min, 1)}
	if b.hasMax {
		data["Max"] = b.max
	}
	return &Failure{MessageID: i18n.ValidateLength, Data: data}
}

// range

type intRange struct {
	bounds
	fail *Failure
}

func buildRange(a args, _ func() time.Time) (Validator, error) {
	b, err := readBounds(a, true, false)
	if err != nil {
		return nil, err
	}
	data := map[string]any{}
	if b.hasMin {
		data["Min"] = b.min
	}
	if b.hasMax {
		data["Max"] = b.max
	}
	return intRange{bounds: b, fail: &Failure{MessageID: i18n.ValidateRange, Data: data}}, nil
}

func (v intRange) Check(input string) (any, *Failure) {
	s := strings.TrimSpace(input)
	if s == "" {
		return nil, required
	}
	n, ok := parseInt64(s)
	if !ok || !v.contain(n) {
		return nil, v.fail
	}
	return n, nil
}

// parseInt64 reads an optionally signed decimal integer. Unlike
// strconv.ParseInt it does not allocate an error for the wrong answers
// citizens type every day.
func parseInt64(s string) (int64, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var u uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	case neg && u <= math.MaxInt64+1:
		return int64(-u), true // -2^63 wraps to itself
	}
	return 0, false
}

// regex

var failRegex = &Failure{MessageID: i18n.ValidateRegex}

type pattern struct {
	re        *regexp.Regexp
	maxRunes  int64
	failCount *Failure
	fold      func(string) string // strings.ToUpper or ToLower, or nil
	strip     string              // characters removed before matching
}

func buildRegex(a args, _ func() time.Time) (Validator, error) {
	p := a.str("pattern")
	if p == "" {
		return nil, a.errorf("pattern", "pattern must not be empty")
	}
	// Go's RE2 engine runs in time linear in the input, so no pattern an
	// author writes can stall a hop.
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		return nil, a.errorf("pattern", "pattern %q is not a valid regular expression: %s", p, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	v := pattern{re: re}
	switch c := a.str("case"); {
	case !a.has("case"):
	case c == "upper":
		v.fold = strings.ToUpper
	case c == "lower":
		v.fold = strings.ToLower
	default:
		return nil, a.errorf("case", "case must be %q or %q, got %q", "upper", "lower", c)
	}
	if a.has("strip") {
		if v.strip = a.str("strip"); v.strip == "" {
			return nil, a.errorf("strip", "strip must name the characters to remove, e.g. %q", " -")
		}
	}
	if n, ok := a.int("max_length"); ok {
		if n < 1 {
			return nil, a.errorf("max_length", "max_length must be at least 1")
		}
		v.maxRunes = n
		v.failCount = bounds{max: n, hasMax: true}.countFailure()
	}
	return v, nil
}

func (v pattern) Check(input string) (any, *Failure) {
	s := strings.TrimSpace(input)
	if v.strip != "" {
		s = strings.Map(func(r rune) rune {
			if strings.ContainsRune(v.strip, r) {
				return -1
			}
			return r
		}, s)
	}
	if v.fold != nil {
		s = v.fold(s)
	}
	if s == "" {
		return nil, required
	}
	if v.maxRunes > 0 && int64(utf8.RuneCountInString(s)) > v.maxRunes {
		return nil, v.failCount
	}
	if !v.re.MatchString(s) {
		return nil, failRegex
	}
	return s, nil
}

// length

type length struct {
	bounds
	fail *Failure
}

func buildLength(a args, _ func() time.Time) (Validator, error) {
	b, err := readBounds(a, true, true)
	if err != nil {
		return nil, err
	}
	return length{bounds: b, fail: b.countFailure()}, nil
}

func (v length) Check(input string) (any, *Failure) {
	s := strings.TrimSpace(input)
	if s == "" {
		return nil, required
	}
	if !v.contain(int64(utf8.RuneCountInString(s))) {
		return nil, v.fail
	}
	return s, nil
}

// digits

type digitString struct {
	bounds
	failCount *Failure
}

func buildDigits(a args, _ func() time.Time) (Validator, error) {
	b, err := readBounds(a, false, true)
	if err != nil {
		return nil, err
	}
	return digitString{bounds: b, failCount: b.countFailure()}, nil
}

func (v digitString) Check(input string) (any, *Failure) {
	s := strings.TrimSpace(input)
	if s == "" {
		return nil, required
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, failRegex
		}
	}
	if !v.contain(int64(len(s))) {
		return nil, v.failCount
	}
	return s, nil
}
