package validate

import (
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

// dateFormat is how citizens are asked to write a date. Only the order of
// the parts matters when reading: people type whichever separator their
// keypad makes easy, or none.
type dateFormat struct {
	name      string
	yearFirst bool
	sep       byte // used to show the bounds back in the same format; 0 for none
}

var dateFormats = []dateFormat{
	{name: "DD/MM/YYYY", sep: '/'},
	{name: "DD-MM-YYYY", sep: '-'},
	{name: "YYYY-MM-DD", yearFirst: true, sep: '-'},
	{name: "DDMMYYYY"},
}

func dateFormatNames() string {
	names := make([]string, len(dateFormats))
	for i, f := range dateFormats {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// dateBound is min or max: an absolute date, or an offset from today.
type dateBound struct {
	set                 bool
	relative            bool
	abs                 civil
	years, months, days int
	src                 string // as written, for errors
}

// civil is a date as y*10000 + m*100 + d, which orders like the date.
type civil int

func makeCivil(y, m, d int) civil { return civil(y*10000 + m*100 + d) }

func (c civil) split() (y, m, d int) { return int(c) / 10000, int(c) / 100 % 100, int(c) % 100 }

// resolve returns the bound's date; today is only read for relative bounds.
func (b dateBound) resolve(today func() (int, time.Month, int)) civil {
	if !b.relative {
		return b.abs
	}
	y, m, d := today()
	// time.Date normalises: today+1m on 31 January is 3 March (2 in a leap
	// year), today-18y on 29 February is 1 March.
	t := time.Date(y+b.years, m+time.Month(b.months), d+b.days, 12, 0, 0, 0, time.UTC)
	y, m, d = t.Date()
	return makeCivil(y, int(m), d)
}

// parseDateBound reads "2026-01-31", "today", "today+30d", "today-18y"
// (units d, m, y).
func parseDateBound(s string) (dateBound, bool) {
	b := dateBound{set: true, src: s}
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	rest, ok := strings.CutPrefix(s, "today")
	if !ok {
		y, m, d, ok := parseISO(s)
		if !ok {
			return b, false
		}
		b.abs = makeCivil(y, m, d)
		return b, true
	}
	b.relative = true
	if rest == "" {
		return b, true
	}
	if len(rest) < 3 { // sign, number, unit
		return b, false
	}
	sign := 1
	switch rest[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return b, false
	}
	num, unit := rest[1:len(rest)-1], rest[len(rest)-1]
	n, ok := atoi(num)
	if !ok || n > 100000 {
		return b, false
	}
	switch unit {
	case 'd':
		b.days = sign * n
	case 'm':
		b.months = sign * n
	case 'y':
		b.years = sign * n
	default:
		return b, false
	}
	return b, true
}

func parseISO(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := atoi(s[:4])
	m, ok2 := atoi(s[5:7])
	d, ok3 := atoi(s[8:])
	if !ok1 || !ok2 || !ok3 || !validDate(y, m, d) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

var _ Validator = date{}

type date struct {
	format   dateFormat
	min, max dateBound
	now      func() time.Time
	fail     *Failure // the answer is not a date
}

func buildDate(a args, now func() time.Time) (Validator, error) {
	v := date{now: now}
	name := a.str("format")
	found := false
	for _, f := range dateFormats {
		if f.name == name {
			v.format, found = f, true
		}
	}
	if !found {
		return nil, a.errorf("format", "format %q is not one of %s", name, dateFormatNames())
	}
	for _, arg := range []string{"min", "max"} {
		if !a.has(arg) {
			continue
		}
		b, ok := parseDateBound(a.str(arg))
		if !ok {
			return nil, a.errorf(arg, `%s %q is not a date: write "2026-01-31", "today", "today+30d" or "today-18y" (d, m or y)`, arg, a.str(arg))
		}
		if arg == "min" {
			v.min = b
		} else {
			v.max = b
		}
	}
	if v.min.set && v.max.set && !v.min.relative && !v.max.relative && v.min.abs > v.max.abs {
		return nil, a.errorf("min", "min %s is after max %s", v.min.src, v.max.src)
	}
	v.fail = &Failure{MessageID: i18n.ValidateDate, Data: map[string]any{"Format": v.format.name}}
	return v, nil
}

func (v date) Check(input string) (any, *Failure) {
	s := strings.TrimSpace(input)
	if s == "" {
		return nil, required
	}
	y, m, d, ok := v.format.parse(s)
	if !ok {
		return nil, v.fail
	}
	c := makeCivil(y, m, d)
	// Read the clock at most once, so both bounds see the same day.
	var ty, td int
	var tm time.Month
	today := func() (int, time.Month, int) {
		if ty == 0 {
			ty, tm, td = v.now().Date()
		}
		return ty, tm, td
	}
	var lo, hi civil
	if v.min.set {
		lo = v.min.resolve(today)
	}
	if v.max.set {
		hi = v.max.resolve(today)
	}
	if (v.min.set && c < lo) || (v.max.set && c > hi) {
		return nil, v.outOfRange(lo, hi)
	}
	var b [10]byte
	put4(b[0:4], y)
	b[4] = '-'
	put2(b[5:7], m)
	b[7] = '-'
	put2(b[8:10], d)
	return string(b[:]), nil
}

// outOfRange is the failure for a real date outside the bounds; it carries
// the bounds in the citizen's format for messages that show them. It is
// built per call because relative bounds move with the clock.
func (v date) outOfRange(lo, hi civil) *Failure {
	data := map[string]any{"Format": v.format.name}
	if v.min.set {
		data["Min"] = v.format.show(lo)
	}
	if v.max.set {
		data["Max"] = v.format.show(hi)
	}
	return &Failure{MessageID: i18n.ValidateDate, Data: data}
}

// parse reads day, month and year in the format's order: either eight
// digits, or three groups of digits separated by / - . or a space, where day
// and month may have one digit and the year has four.
func (f dateFormat) parse(s string) (y, m, d int, ok bool) {
	var p [3]int
	if n, compact := atoi(s); compact && len(s) == 8 {
		if f.yearFirst {
			p = [3]int{n / 10000, n / 100 % 100, n % 100}
		} else {
			p = [3]int{n / 1000000, n / 10000 % 100, n % 10000}
		}
	} else {
		// width of each group: year 4, day and month 1 or 2
		yi := 2
		if f.yearFirst {
			yi = 0
		}
		rest := s
		for i := range p {
			j := 0
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			if j == 0 || (i == yi && j != 4) || (i != yi && j > 2) {
				return 0, 0, 0, false
			}
			p[i], _ = atoi(rest[:j])
			rest = rest[j:]
			if i < 2 {
				if rest == "" || !isDateSep(rest[0]) {
					return 0, 0, 0, false
				}
				rest = rest[1:]
			}
		}
		if rest != "" {
			return 0, 0, 0, false
		}
	}
	if f.yearFirst {
		y, m, d = p[0], p[1], p[2]
	} else {
		d, m, y = p[0], p[1], p[2]
	}
	if !validDate(y, m, d) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func isDateSep(c byte) bool { return c == '/' || c == '-' || c == '.' || c == ' ' }

// show writes a date the way the format asks citizens to write it.
func (f dateFormat) show(c civil) string {
	y, m, d := c.split()
	var b [10]byte
	n := 0
	put := func(v, width int) {
		if width == 4 {
			put4(b[n:], v)
		} else {
			put2(b[n:], v)
		}
		n += width
	}
	sep := func() {
		if f.sep != 0 {
			b[n] = f.sep
			n++
		}
	}
	if f.yearFirst {
		put(y, 4)
		sep()
		put(m, 2)
		sep()
		put(d, 2)
	} else {
		put(d, 2)
		sep()
		put(m, 2)
		sep()
		put(y, 4)
	}
	return string(b[:n])
}

func validDate(y, m, d int) bool {
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

// daysIn is the number of days of month m of year y: day 0 of the next
// month is the last of this one.
func daysIn(y, m int) int { return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() }

// atoi reads an unsigned decimal of at most 9 digits, which cannot overflow.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func put2(b []byte, v int) {
	b[0] = byte('0' + v/10%10)
	b[1] = byte('0' + v%10)
}

func put4(b []byte, v int) {
	b[0] = byte('0' + v/1000%10)
	b[1] = byte('0' + v/100%10)
	b[2] = byte('0' + v/10%10)
	b[3] = byte('0' + v%10)
}
