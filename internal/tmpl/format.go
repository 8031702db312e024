package tmpl

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Format is how a hole shows its value: {{amount | money}}. The zero
// Format shows the value as it is.
type Format uint8

// The formats, one per kind of value a screen shows to citizens.
const (
	Plain  Format = iota
	Number        // 1.234,5 in es, 1,234.5 in en
	Money         // USD 1.234,50 in es, USD 1,234.50 in en
	Date          // 12 mar 2027 in es, 12 Mar 2027 in en
	Time          // 09:30 (24 h) in every locale
)

// Formats names the formats as holes write them, in the order of the docs.
var Formats = []string{"number", "money", "date", "time"}

func (f Format) String() string {
	if f == Plain || int(f) > len(Formats) {
		return ""
	}
	return Formats[f-1]
}

// formatNamed returns the format a hole names, if any.
func formatNamed(name string) (Format, bool) {
	for i, n := range Formats {
		if n == name {
			return Format(i + 1), true
		}
	}
	return Plain, false
}

// Currency is the currency of Money: the US dollar, Ecuador's.
var Currency = currency.USD

// style is how a locale writes numbers and dates.
type style struct {
	printer *message.Printer
	months  [12]string // abbreviated, as CLDR's "d MMM y" writes them
}

var (
	esMonths = [12]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"}
	enMonths = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// Ecuador's Spanish writes 1.234,50 (CLDR es-EC), unlike most of Spanish
// America (es-419: 1,234.50). Kichwa speakers read numbers the way the
// country writes them, so qu is written as es; CLDR's qu is Peru's
// Quechua, with the decimal point.
var (
	esEC = style{printer: message.NewPrinter(language.MustParse("es-EC")), months: esMonths}
	en   = style{printer: message.NewPrinter(language.English), months: enMonths}
)

// others caches the styles of locales beyond es, en and qu.
var others sync.Map // locale → *style

func styleOf(locale string) *style {
	switch locale {
	case "es", "qu", "":
		return &esEC
	case "en":
		return &en
	}
	if s, ok := others.Load(locale); ok {
		return s.(*style)
	}
	tag, err := language.Parse(locale)
	if err != nil {
		return &esEC
	}
	s := &style{printer: message.NewPrinter(tag), months: esMonths}
	if base, _ := tag.Base(); base.String() == "en" {
		s.months = enMonths
	}
	if len(locale) <= 16 {
		others.Store(locale, s)
	}
	return s
}

// Write writes v formatted for locale to b. It reports false, writing
// nothing, when v is not what the format reads: the caller then shows v
// as it is.
//
// Number and Money read numbers as JSON back-ends send them: float64,
// int64, int, json.Number, or a string of digits with an optional sign and
// decimal point ("1234.5"). Date reads an ISO date ("2027-03-12"), alone
// or at the start of a date and time ("2027-03-12T09:30:00-05:00"); Time
// reads "09:30", "9:30", "09:30:15" or the time of an ISO date and time,
// as written: an offset is not converted.
func (f Format) Write(b *strings.Builder, locale string, v any) bool {
	switch f {
	case Number, Money:
		n, ok := toNumber(v)
		if !ok {
			return false
		}
		// Sprint rather than Fprint(b): b would escape, and every text
		// rendered, formats or not, would cost an allocation.
		p := styleOf(locale).printer
		if f == Money {
			b.WriteString(p.Sprint(currency.ISO(Currency.Amount(n))))
		} else {
			b.WriteString(p.Sprint(number.Decimal(n)))
		}
		return true
	case Date:
		s, _ := v.(string)
		y, m, d, ok := isoDate(s)
		if !ok {
			return false
		}
		b.WriteString(strconv.Itoa(d))
		b.WriteByte(' ')
		b.WriteString(styleOf(locale).months[m-1])
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(y))
		return true
	case Time:
		s, _ := v.(string)
		h, m, ok := clock(s)
		if !ok {
			return false
		}
		b.WriteByte(byte('0' + h/10))
		b.WriteByte(byte('0' + h%10))
		b.WriteByte(':')
		b.WriteByte(byte('0' + m/10))
		b.WriteByte(byte('0' + m%10))
		return true
	}
	return false
}

// Widest is the most characters f writes in locale for a value of at
// most n characters, the value shown as it is when f cannot read it. With
// n <= 0 the value is one a screen is expected to show: an amount of
// either sign under ten million with up to two decimals (three for
// Number), any date, any time. The lint measures screens with it.
func (f Format) Widest(locale string, n int) int {
	var b strings.Builder
	switch f {
	case Number, Money:
		if n <= 0 {
			worst := -9999999.999
			if f == Money {
				worst = -9999999.99 // cents: .999 would round up to ten million
			}
			f.Write(&b, locale, worst)
			break
		}
		// Of the numerals of n characters, n nines gain the most: a
		// group separator per three digits, and Money's cents.
		f.Write(&b, locale, int64(math.Pow10(min(n, 18))-1))
	case Date:
		w := 0
		for _, m := range styleOf(locale).months {
			w = max(w, utf8.RuneCountInString(m))
		}
		return max(n, len("30  2027")+w)
	case Time:
		return max(n, len("23:59"))
	default:
		return n
	}
	return max(n, utf8.RuneCountInString(b.String()))
}

func toNumber(v any) (any, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case int64, int:
		return x, true
	case json.Number:
		return numeral(string(x))
	case string:
		return numeral(x)
	}
	return nil, false
}

// numeral reads a number written as JSON writes one, or as a back-end
// writes an amount in a string: digits, an optional leading minus and
// one decimal point ("-1234.50"); no grouping, no exponent, no spaces
// inside.
func numeral(s string) (any, bool) {
	s = strings.TrimSpace(s)
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' && i == 0:
		case c == '.' && !point && digits > 0 && i < len(s)-1:
			point = true
		default:
			return nil, false
		}
	}
	if digits == 0 || digits > 17 {
		return nil, false
	}
	if !point {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil
}

// isoDate reads "YYYY-MM-DD", alone or followed by a time ("T09:30",
// " 09:30").
func isoDate(s string) (y, m, d int, ok bool) {
	if len(s) < 10 || (len(s) > 10 && s[10] != 'T' && s[10] != ' ') || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// daysIn is the number of days of month m of year y: day 0 of the next
// month is the last of this one.
func daysIn(y, m int) int { return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() }

// clock reads "H:MM" or "HH:MM", with optional seconds and what follows
// them (a fraction, an offset), alone or after an ISO date and "T".
func clock(s string) (h, m int, ok bool) {
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		if _, _, _, ok := isoDate(s[:10]); !ok {
			return 0, 0, false
		}
		s = s[11:]
	}
	colon := strings.IndexByte(s, ':')
	if colon < 1 || colon > 2 || len(s) < colon+3 {
		return 0, 0, false
	}
	h, ok1 := digits(s[:colon])
	m, ok2 := digits(s[colon+1 : colon+3])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, 0, false
	}
	if rest := s[colon+3:]; rest != "" && rest[0] != ':' && rest[0] != 'Z' && rest[0] != '+' && rest[0] != '-' && rest[0] != '.' {
		return 0, 0, false
	}
	return h, m, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, s != ""
}
