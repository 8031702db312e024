package privacy

import (
	"slices"
	"strings"

	"github.com/ventanilla-gob/ventanilla/internal/ecid"
)

// Placeholders Scrub puts where it removed something.
const (
	ScrubPhone  = "[phone]"
	ScrubCedula = "[cedula]"
	ScrubRUC    = "[ruc]"
	ScrubNumber = "[number]"
	ScrubEmail  = "[email]"
	ScrubToken  = "[token]"
)

// Scrub returns s with whatever looks like personal data or a secret
// replaced by a placeholder: phone numbers (7 or more digits, with or
// without "+", spaces, dashes or parentheses), cédulas and RUCs (10 and 13
// digits), e-mail addresses, the value after "Bearer", "Basic" or a key
// such as "token=", "password:" or "X-Api-Key:", and long random-looking
// runs (hex digests, base64, JWTs). It is for text from outside the
// gateway that ends up in logs, such as a back-end's error message; values
// the gateway knows to be personal go through Phone, NationalID, Text and
// the like instead.
//
// It errs on the side of hiding: any run of 10 or more digits goes, as do
// 7 to 9 digits standing alone; dates (2026-11-23), times, durations,
// HTTP statuses, service codes (*384#), flow ids (turnos@3) and UUIDs
// (but for a run of 10 digits in one) stay. Only ASCII digits are
// recognised, and names or addresses in free text are not: Scrub is a
// safety net, not a reason to log what a citizen typed. A string with
// nothing to hide is returned as is, without allocating.
func Scrub(s string) string { return scrub(s, true) }

// ScrubID is Scrub for an identifier the gateway made or received (a
// message id such as "ntf_3f0c9a61d2b84e7c9b1f0a2d4c6e8f10"): random runs
// are what ids are made of, so they stay; phone numbers, national ids and
// e-mail addresses inside one still go.
func ScrubID(s string) string { return scrub(s, false) }

func scrub(s string, tokens bool) string {
	// Hiding one thing can change how its neighbours look (a long run
	// split by a placeholder, digits no longer after a number), so scrub
	// until nothing changes: Scrub(Scrub(s)) == Scrub(s). Each round that
	// changes s turns some of it into placeholders, which later rounds
	// keep; almost all strings take one round, or two when dirty.
	for range 8 {
		var sc scrubber
		sc.keywords(s)
		sc.emails(s)
		if tokens {
			sc.tokens(s)
		}
		sc.numbers(s) // last: it looks at what the others hid
		if len(sc.spans) == 0 {
			return s
		}
		s = sc.apply(s)
	}
	return s
}

type span struct {
	start, end int
	label      string
}

type scrubber struct {
	spans []span
}

func (sc *scrubber) add(start, end int, label string) {
	sc.spans = append(sc.spans, span{start, end, label})
}

// hidden reports whether s[i] is in a span already.
func (sc *scrubber) hidden(i int) bool {
	for _, sp := range sc.spans {
		if sp.start <= i && i < sp.end {
			return true
		}
	}
	return false
}

// apply replaces the spans, merged where they overlap, by their labels.
func (sc *scrubber) apply(s string) string {
	slices.SortFunc(sc.spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i := 0; i < len(sc.spans); {
		cur := sc.spans[i]
		for i++; i < len(sc.spans) && sc.spans[i].start < cur.end; i++ {
			cur.end = max(cur.end, sc.spans[i].end)
		}
		b.WriteString(s[last:cur.start])
		b.WriteString(cur.label)
		last = cur.end
	}
	b.WriteString(s[last:])
	return b.String()
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool  { return 'a' <= c && c <= 'z' }
func isLetter(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }
func isHex(c byte) bool    { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// isWord is what a key name is made of: "access_token", "X-Api-Key".
func isWord(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

// ends a secret value after a key or a scheme.
func isValueEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '"', '\'', '`', '&', ',', ';', '}', ')', ']', '<', '>':
		return true
	}
	return false
}

// secretKeys are key names, lower-cased, whose value is a secret; a key
// whose last "_"/"-" part is one of secretSuffixes counts too
// (AT_CALLBACK_TOKEN, x-api-key).
var (
	secretKeys = map[string]bool{
		"token": true, "apikey": true, "password": true, "passwd": true, "pwd": true,
		"secret": true, "authorization": true, "auth": true, "signature": true, "sig": true,
		"cookie": true, "session": true, "sessionid": true, "jsessionid": true, "phpsessid": true,
	}
	secretSuffixes = map[string]bool{
		"token": true, "key": true, "secret": true, "password": true, "passwd": true,
		"signature": true, "session": true, "sessid": true,
	}
)

func isSecretKey(w string) bool {
	var buf [40]byte
	if len(w) < 3 || len(w) > len(buf) {
		return false
	}
	l := buf[:len(w)]
	for i := 0; i < len(w); i++ {
		c := w[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		l[i] = c
	}
	if secretKeys[string(l)] { // no allocation: the compiler looks up in place
		return true
	}
	for i := len(l) - 1; i >= 2; i-- {
		if l[i-1] == '_' || l[i-1] == '-' {
			return secretSuffixes[string(l[i:])]
		}
	}
	return false
}

// keywords hides what follows an authentication scheme ("Bearer x",
// "Basic x") or a secret key ("token=x", `"password": "x"`, "X-Api-Key: x").
func (sc *scrubber) keywords(s string) {
	for i := 0; i < len(s); {
		if !isLetter(s[i]) || i > 0 && isWord(s[i-1]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWord(s[j]) {
			j++
		}
		w := s[i:j]
		switch {
		case len(w) == 6 && strings.EqualFold(w, "bearer"):
			if v, end := schemeValue(s, j); end > v {
				sc.add(v, end, ScrubToken)
				j = end
			}
		case len(w) == 5 && strings.EqualFold(w, "basic"):
			// "basic" is also an English word: hide only what looks
			// like base64 credentials.
			if v, end := schemeValue(s, j); end-v >= 8 && looksBase64(s[v:end]) {
				sc.add(v, end, ScrubToken)
				j = end
			}
		case assigned(s, j) && isSecretKey(w):
			if v, end := keyValue(s, j); end > v {
				sc.add(v, end, ScrubToken)
				j = end
			}
		}
		i = j
	}
}

// placeholders are what Scrub writes; a value that is one was scrubbed
// already.
var placeholders = []string{ScrubPhone, ScrubCedula, ScrubRUC, ScrubNumber, ScrubEmail, ScrubToken}

func placeholderAt(s string, i int) bool {
	for _, p := range placeholders {
		if strings.HasPrefix(s[i:], p) {
			return true
		}
	}
	return false
}

// schemeValue finds the credentials after a scheme name ending at i: one
// or more spaces, then everything up to the next delimiter.
func schemeValue(s string, i int) (start, end int) {
	j := i
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j == i || placeholderAt(s, j) {
		return i, i
	}
	end = j
	for end < len(s) && !isValueEnd(s[end]) {
		end++
	}
	return j, end
}

// assigned reports whether a key name ending at i is followed by "=" or
// ":", after an optional quote and spaces.
func assigned(s string, i int) bool {
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		i++
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i < len(s) && (s[i] == '=' || s[i] == ':')
}

// keyValue finds the value after a key name ending at i: an optional
// closing quote, "=" or ":" with optional spaces around, an optional
// opening quote, then everything up to the next delimiter. A value that is
// itself a scheme name ("Authorization: Bearer x") is left to the scheme.
func keyValue(s string, i int) (start, end int) {
	j := i
	if j < len(s) && (s[j] == '"' || s[j] == '\'') {
		j++
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j >= len(s) || s[j] != '=' && s[j] != ':' {
		return i, i
	}
	j++
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j < len(s) && (s[j] == '"' || s[j] == '\'') {
		j++
	}
	if placeholderAt(s, j) {
		return i, i
	}
	end = j
	for end < len(s) && !isValueEnd(s[end]) {
		end++
	}
	if v := s[j:end]; strings.EqualFold(v, "bearer") || strings.EqualFold(v, "basic") {
		return i, i
	}
	return j, end
}

func looksBase64(v string) bool {
	mixed := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c) || c == '=' || c == '+' || c == '/' || i > 0 && isUpper(c):
			mixed = true
		case isLetter(c):
		default:
			return false
		}
	}
	return mixed
}

// emails hides local@domain.tld.
func (sc *scrubber) emails(s string) {
	for i := strings.IndexByte(s, '@'); i >= 0; {
		l := i
		for l > 0 && (isAlnum(s[l-1]) || strings.IndexByte("._%+-", s[l-1]) >= 0) {
			l--
		}
		r := i + 1
		for r < len(s) && (isAlnum(s[r]) || s[r] == '.' || s[r] == '-') {
			r++
		}
		for r > i+1 && (s[r-1] == '.' || s[r-1] == '-') { // "…@example.com."
			r--
		}
		if l < i && isDomain(s[i+1:r]) {
			sc.add(l, r, ScrubEmail)
		}
		next := strings.IndexByte(s[i+1:], '@')
		if next < 0 {
			break
		}
		i += 1 + next
	}
}

// isDomain: at least two labels, the last of two or more letters.
func isDomain(d string) bool {
	dot := strings.LastIndexByte(d, '.')
	if dot <= 0 || len(d)-dot-1 < 2 {
		return false
	}
	for i := dot + 1; i < len(d); i++ {
		if !isLetter(d[i]) {
			return false
		}
	}
	return true
}

// numbers hides phone numbers, cédulas, RUCs and other long numbers.
//
// A number is a run of digits, optionally after "+", optionally continued
// by more digits after one or two of " ", "-", "(", ")": "+593 99 123 4567",
// "(02) 234-5678", "171430710-3". Groups joined by a space or a
// parenthesis have two digits or more, so "1 2 3 4 5 6 7" stays, and an
// ISO date (2026-11-23) is not a number. A number is hidden when it has 10
// digits or more; with 7 to 9 it is hidden when it has a "+" or several
// groups, or stands alone: not inside a word (a hex id "c_3f9a1234567b")
// and not a decimal fraction (the nanoseconds of "1.234567891s").
func (sc *scrubber) numbers(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		plus := c == '+' && i+1 < len(s) && isDigit(s[i+1])
		if !plus && !isDigit(c) || isDigit(c) && i > 0 && isDigit(s[i-1]) {
			i++
			continue
		}
		start, j := i, i
		if plus {
			j++
		}
		var (
			total, groups int
			lens          [3]int // of the first three groups, to tell a date
			dashes        = true // every separator so far was one "-"
		)
		for {
			k := j
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if groups < len(lens) {
				lens[groups] = k - j
			}
			total += k - j
			groups++
			j = k
			if groups == 3 && dashes && lens == [3]int{4, 2, 2} {
				break // a date; what follows is another matter
			}
			m, dash := k, true
			for m < len(s) && m-k < 2 && strings.IndexByte(" -()", s[m]) >= 0 {
				dash = dash && s[m] == '-'
				m++
			}
			if m == k || m >= len(s) || !isDigit(s[m]) {
				break
			}
			// Two separators only around a parenthesis: "(02) 234",
			// not "00 -0500" (a time zone).
			if m-k == 2 && s[k] != ')' && s[k+1] != '(' {
				break
			}
			n := m
			for n < len(s) && isDigit(s[n]) {
				n++
			}
			// Groups glued to letters are parts of ids ("a716-4466…"),
			// not of a number written out.
			if !dash && n-m < 2 || !plus && groups == 1 && (gluedBefore(s, start) || sc.inTime(s, start)) || gluedAfter(s, n) {
				break
			}
			dashes = dashes && dash && m-k == 1
			j = m
		}
		end := j
		switch {
		case groups == 3 && dashes && lens == [3]int{4, 2, 2}:
		case total >= 10:
			sc.add(start, end, numberLabel(s[start:end], plus, groups))
		case total >= 7 && (plus || groups > 1 || sc.standsAlone(s, start, end)) && !inUUID(s, start, end):
			sc.add(start, end, numberLabel(s[start:end], plus, groups))
		}
		i = end
	}
}

func (sc *scrubber) standsAlone(s string, start, end int) bool {
	if gluedBefore(s, start) || gluedAfter(s, end) {
		return false
	}
	return start < 1 || s[start-1] != '.' || !sc.keptNumberBefore(s, start-1)
}

// inTime reports whether digits at i continue a time, a decimal number or
// an address ("09:00:00.123", "1.5", "10.0.0.12:443").
func (sc *scrubber) inTime(s string, i int) bool {
	return i > 0 && (s[i-1] == '.' || s[i-1] == ':') && sc.keptNumberBefore(s, i-1)
}

// keptNumberBefore reports whether digits that stay end at i. Digits that
// go make what follows them stand alone: it must be judged the same way
// when Scrub runs again on its own output, where they are a placeholder.
func (sc *scrubber) keptNumberBefore(s string, i int) bool {
	return i > 0 && isDigit(s[i-1]) && !sc.hidden(i-1)
}

func gluedBefore(s string, i int) bool { return i > 0 && (isLetter(s[i-1]) || s[i-1] == '_') }
func gluedAfter(s string, i int) bool  { return i < len(s) && (isLetter(s[i]) || s[i] == '_') }

// inUUID reports whether s[start:end] lies inside a UUID.
func inUUID(s string, start, end int) bool {
	from, to := start, end
	for from > 0 && (isHex(s[from-1]) || s[from-1] == '-') {
		from--
	}
	for to < len(s) && (isHex(s[to]) || s[to] == '-') {
		to++
	}
	for i := max(from, end-36); i <= start && i+36 <= to; i++ {
		if isUUID(s[i:i+36]) && (i == from || s[i-1] == '-') && (i+36 == to || s[i+36] == '-') {
			return true
		}
	}
	return false
}

func numberLabel(n string, plus bool, groups int) string {
	switch {
	case plus || groups > 1:
		return ScrubPhone
	case len(n) == 13:
		return ScrubRUC
	case len(n) == 10 && ecid.Cedula(n):
		return ScrubCedula
	case len(n) == 10 && n[:2] == "09", len(n) == 12 && n[:4] == "5939":
		return ScrubPhone
	}
	return ScrubNumber
}

// tokens hides long random-looking runs: API keys, digests, base64 and
// JWTs. A run is made of letters, digits and "-_/+", plus trailing "="
// padding; "." and everything else split runs. It is a token when it
// holds 24 or more hex digits in a row with both letters and digits (a
// digest, a hex key), starts with "eyJ" (base64 of a JSON object: a JWT,
// hidden with the parts that follow it after "."), or is 20 or more long
// and changes between upper case, lower case and digits at a third or
// more of its characters, as random text does and words and kebab-case
// ids do not. UUIDs and pseudonyms are kept.
func (sc *scrubber) tokens(s string) {
	for i := 0; i < len(s); {
		if !isTokenChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isTokenChar(s[j]) {
			j++
		}
		for j < len(s) && s[j] == '=' && j-i >= 4 {
			j++
		}
		if j-i >= 10 && strings.HasPrefix(s[i:j], "eyJ") {
			// A JWT: hide its payload and signature with its header.
			for j+1 < len(s) && s[j] == '.' && isTokenChar(s[j+1]) {
				for j++; j < len(s) && (isTokenChar(s[j]) || s[j] == '='); j++ {
				}
			}
			sc.add(i, j, ScrubToken)
			i = j
			continue
		}
		if r := s[i:j]; isToken(r) && !IsPseudonym(r) && !isUUID(r) {
			sc.add(i, j, ScrubToken)
		}
		i = j
	}
}

// isUUID: 8-4-4-4-12 hex digits. UUIDs are how systems name requests
// (X-Road-Id, correlation ids); logs are for following them.
func isUUID(r string) bool {
	if len(r) != 36 {
		return false
	}
	for i := 0; i < len(r); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if r[i] != '-' {
				return false
			}
		} else if !isHex(r[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool { return isWord(c) || c == '/' || c == '+' }

func isToken(r string) bool {
	if len(r) < 20 {
		return false
	}
	changes, hexRun, hexLetter, hexDigit := 0, 0, false, false
	for i := 0; i < len(r); i++ {
		c := r[i]
		if isHex(c) {
			if hexRun == 0 {
				hexLetter, hexDigit = false, false
			}
			hexRun++
			hexLetter = hexLetter || isLetter(c)
			hexDigit = hexDigit || isDigit(c)
			if hexRun >= 24 && hexLetter && hexDigit {
				return true
			}
		} else {
			hexRun = 0
		}
		if i > 0 && charClass(r[i-1]) != 0 && charClass(c) != 0 && charClass(r[i-1]) != charClass(c) {
			changes++
		}
	}
	return changes*3 >= len(r)
}

// charClass: 1 upper, 2 lower, 3 digit, 0 anything else.
func charClass(c byte) int {
	switch {
	case isUpper(c):
		return 1
	case isLower(c):
		return 2
	case isDigit(c):
		return 3
	}
	return 0
}
