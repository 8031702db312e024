package diag

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	goccy "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// SyntaxError explains why data is not YAML, with code "yaml", at the line
// and column of the mistake and in words an author can act on: "tabs cannot
// indent YAML; use spaces" at the tab, "this `"` is never closed" at the
// quote.
//
// err is yaml.v3's, which reads every file. Its text gives a line at best,
// and often the line where the enclosing mapping began rather than the
// line of the mistake ("did not find expected key"), or the end of the
// file for a quote left open on line 1, so the position comes from a
// second parser that keeps every token's line and column, run only once a
// file has failed. When that one finds nothing, yaml.v3's line stands, at
// its first written character.
func SyntaxError(file string, data []byte, err error) Problem {
	p := Problem{File: file, Code: "yaml"}
	src := newSource(data)
	line, msg := v3Error(err)
	if at, gmsg, ok := locate(data); ok {
		p.Pos, p.Message = src.explain(at, gmsg)
		return p
	}
	p.Pos, p.Message = src.fallback(line, msg)
	return p
}

// v3Error splits yaml.v3's "yaml: line 3: text" into 3 and "text"; line is
// 0 when the text names none.
func v3Error(err error) (line int, msg string) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, text, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				return l, strings.TrimSpace(text)
			}
		}
	}
	return 0, msg
}

// maxNesting bounds the nesting of a file handed to the second parser,
// which recurses once per level: deeper files (yaml.v3 refuses them past
// 10,000 levels) keep yaml.v3's line.
const maxNesting = 1000

// locate parses data with goccy/go-yaml and returns where its first syntax
// error is, with its text. Keys given twice are allowed here: each file
// kind reports them itself, with the path of the key.
func locate(data []byte) (at Pos, msg string, ok bool) {
	if len(data) > 4<<20 || nesting(data) > maxNesting {
		return Pos{}, "", false
	}
	defer func() {
		if recover() != nil {
			at, msg, ok = Pos{}, "", false
		}
	}()
	_, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line < 1 {
		return Pos{}, "", false
	}
	return Pos{se.Token.Position.Line, max(se.Token.Position.Column, 1)}, se.Message, true
}

// nesting over-estimates how deeply data nests: the brackets opened and
// not yet closed anywhere, quoted or not, plus the most list dashes that
// open one line.
func nesting(data []byte) int {
	depth, most, dashes := 0, 0, 0
	lineStart := true
	for _, c := range data {
		switch c {
		case '[', '{':
			depth++
			most = max(most, depth)
		case ']', '}':
			depth = max(depth-1, 0)
		case '\n':
			lineStart, dashes = true, 0
			continue
		case '-':
			if lineStart {
				dashes++
				most = max(most, depth+dashes)
			}
			continue
		case ' ':
			continue
		}
		lineStart = false
	}
	return most
}

// source is a file's text by line, to read the context of a mistake.
type source struct {
	text  string
	lines [][]rune
}

func newSource(data []byte) source {
	s := source{text: string(data)}
	// A line ends at \n, \r\n or a lone \r, as both parsers count lines.
	text := strings.ReplaceAll(strings.ReplaceAll(s.text, "\r\n", "\n"), "\r", "\n")
	for _, l := range strings.Split(text, "\n") {
		s.lines = append(s.lines, []rune(l))
	}
	return s
}

// line returns line n (1-based), nil past the end.
func (s source) line(n int) []rune {
	if n < 1 || n > len(s.lines) {
		return nil
	}
	return s.lines[n-1]
}

// at returns the character at pos, 0 outside the text.
func (s source) at(pos Pos) rune {
	l := s.line(pos.Line)
	if pos.Col < 1 || pos.Col > len(l) {
		return 0
	}
	return l[pos.Col-1]
}

// indent counts the spaces that open line l.
func indent(l []rune) int {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n
}

// blank reports whether l holds nothing but spaces and a comment.
func blank(l []rune) bool {
	t := strings.TrimSpace(string(l))
	return t == "" || strings.HasPrefix(t, "#")
}

// firstTab returns the column of the first tab among the blanks that open
// line n, 0 when there is none.
func (s source) firstTab(n int) int {
	for i, c := range s.line(n) {
		switch c {
		case '\t':
			return i + 1
		case ' ':
			continue
		}
		break
	}
	return 0
}

// start is the first written character of line n, column 1 for a blank
// line or one past the end.
func (s source) start(n int) Pos {
	l := s.line(n)
	if l == nil || blank(l) {
		return Pos{max(n, 1), 1}
	}
	return Pos{n, strings.IndexFunc(string(l), func(r rune) bool { return !unicode.IsSpace(r) }) + 1}
}

// keyOf returns the key that opens line l ("say" in "    say: hi",
// "- name: x" gives "name"), or "".
func keyOf(l []rune) string {
	t := strings.TrimLeft(string(l), " -")
	k, _, ok := strings.Cut(t, ":")
	if !ok || k == "" || strings.ContainsAny(k, "\"'{}[]#") {
		return ""
	}
	return strings.TrimSpace(k)
}

// explain turns the second parser's finding into words, moving the
// position to where the mistake is written when the token it stopped at is
// only where the damage showed.
func (s source) explain(at Pos, msg string) (Pos, string) {
	switch c := s.at(at); {
	case c == '\t' || (strings.Contains(msg, "cannot start any token") && s.firstTab(at.Line) > 0):
		if col := s.firstTab(at.Line); col > 0 {
			at.Col = col
		}
		return at, "tabs cannot indent YAML; use spaces"
	case strings.Contains(msg, "cannot start any token"), strings.Contains(msg, "is a reserved character"),
		strings.HasPrefix(msg, "unexpected directive value"):
		if c == '`' {
			return at, "a value cannot start with a backtick; put quotes around it"
		}
		return at, fmt.Sprintf("a value cannot start with `%c`; put quotes around it", c)
	case strings.HasPrefix(msg, "could not find end character of double-quoted"):
		return at, "this `\"` is never closed; end the text with another `\"`"
	case strings.HasPrefix(msg, "could not find end character of single-quoted"):
		return at, "this `'` is never closed; end the text with another `'`"
	case strings.Contains(msg, "',' or ']'"), strings.Contains(msg, "']' not found"):
		return s.unclosed(at, token.SequenceStartType, token.SequenceEndType,
			"this `[` is never closed; end the list with `]`, its items separated by `,`", "expected `,` or `]` here")
	case strings.Contains(msg, "',' or '}'"), strings.Contains(msg, "'}'") && !strings.Contains(msg, "corresponding"):
		return s.unclosed(at, token.MappingStartType, token.MappingEndType,
			"this `{` is never closed; end it with `}`, its pairs separated by `,`", "expected `,` or `}` here")
	case strings.Contains(msg, "corresponding to ']'"):
		return at, "this `]` closes no `[`"
	case strings.Contains(msg, "corresponding to '}'"):
		return at, "this `}` closes no `{`"
	case msg == "mapping value is not allowed in this context":
		return s.colonInValue(at)
	case strings.HasPrefix(msg, "value is not allowed in this context"):
		return s.misplaced(at)
	case strings.HasPrefix(msg, "non-map value is specified"), strings.HasPrefix(msg, "block sequence entries are not allowed"):
		if c == '-' {
			return at, "a list item (`- …`) among `key: value` lines; indent it under the key whose list it is, or write it as `key: value`"
		}
		return at, "a value where a `key: value` line is expected"
	case strings.HasPrefix(msg, "could not find alias"), strings.HasPrefix(msg, "undefined alias"):
		return at, "this alias names no anchor (`&name`) written before it"
	}
	return at, msg
}

// colonInValue explains a `: ` inside a value: the value starts at at.
// Written on the value's own line it is the classic `title: Paso 1: elija`;
// on a later line, deeper than the value's key, it is a line indented too
// far, which YAML reads as the value going on.
func (s source) colonInValue(at Pos) (Pos, string) {
	l := s.line(at.Line)
	if at.Col >= 1 && at.Col <= len(l) {
		rest := strings.TrimSpace(string(l[at.Col-1:]))
		if strings.Contains(rest, ": ") || strings.HasSuffix(rest, ":") {
			msg := "this value holds `: `, and a value cannot itself hold `key: value`; put quotes around it"
			if !strings.ContainsAny(rest, "\"#") {
				msg += fmt.Sprintf(": \"%s\"", rest)
			}
			return at, msg
		}
	}
	for n := at.Line + 1; n <= len(s.lines); n++ {
		if next := s.line(n); !blank(next) {
			pos := s.start(n)
			switch {
			case s.at(pos) == ':':
				return pos, "a `:` with no key before it"
			case indent(next) <= indent(l):
				return pos, "this line cannot hold `key: value` here"
			}
			if k := keyOf(l); k != "" {
				return pos, fmt.Sprintf("this line is indented deeper than `%s:` above it, which already has a value; line it up with `%s:`", k, k)
			}
			return pos, "this line is indented deeper than the line above it, which already has a value; line it up with the keys above"
		}
	}
	return at, "a value cannot itself hold `key: value`; put quotes around it"
}

// misplaced explains text where none may be: after a closing quote, or a
// line whose indentation lines up with no key above it.
func (s source) misplaced(at Pos) (Pos, string) {
	l := s.line(at.Line)
	before := strings.TrimRight(string(l[:min(max(at.Col-1, 0), len(l))]), " ")
	if q := strings.TrimLeft(before, " "); q != "" && (strings.HasSuffix(before, `"`) || strings.HasSuffix(before, `'`)) {
		// A quoted text may run over lines: when this quote closes one
		// opened on an earlier line, the quote left open is the mistake.
		if open := s.quoteBefore(at); open.Line > 0 && open.Line < at.Line {
			q := s.at(open)
			return open, fmt.Sprintf("this `%c` is closed only on line %d, so the lines between are its text; end the text with `%c` on this line", q, at.Line, q)
		}
		return at, "text after the closing quote; put the whole value inside the quotes"
	}
	switch c := s.at(at); {
	case c == ']' || c == '}':
		return at, fmt.Sprintf("this `%c` closes nothing", c)
	case s.start(at.Line) != at:
		return at, "unexpected text here"
	}
	for n := at.Line - 1; n >= 1; n-- {
		above := s.line(n)
		if blank(above) {
			continue
		}
		if indent(above) == indent(l) && s.at(s.start(n)) == '-' && s.at(at) != '-' {
			return at, "a `key: value` line among list items (`- …`); start it with `- `, or indent it under an item"
		}
		break
	}
	levels := s.levels(at.Line)
	return at, fmt.Sprintf("this line is indented %s, which lines up with no key above it (%s)", spaces(indent(l)), levels)
}

// levels names the indentations open above line n: those of the line
// above and of each line above that with less.
func (s source) levels(n int) string {
	var found []int
	last := -1
	for i := n - 1; i >= 1; i-- {
		l := s.line(i)
		if blank(l) || keyOf(l) == "" && !strings.HasPrefix(strings.TrimLeft(string(l), " "), "-") {
			continue
		}
		if in := indent(l); last < 0 || in < last {
			found, last = append(found, in), in
		}
		if last == 0 {
			break
		}
	}
	if len(found) == 0 {
		return "the file's keys start at column 1"
	}
	words := make([]string, len(found))
	for i, in := range found {
		words[len(found)-1-i] = strconv.Itoa(in)
	}
	if len(words) == 1 {
		return "the keys above are indented " + spaces(found[0])
	}
	return "the keys above are indented " + strings.Join(words[:len(words)-1], ", ") + " or " + spaces(found[0])
}

func spaces(n int) string {
	if n == 1 {
		return "1 space"
	}
	return strconv.Itoa(n) + " spaces"
}

// quoteBefore is where the last quoted text before at opens.
func (s source) quoteBefore(at Pos) Pos {
	var open Pos
	for _, tk := range lexer.Tokenize(s.text) {
		if tk.Position == nil || tk.Position.Line > at.Line || tk.Position.Line == at.Line && tk.Position.Column >= at.Col {
			break
		}
		if tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType {
			open = Pos{tk.Position.Line, tk.Position.Column}
		}
	}
	return open
}

// unclosed finds the bracket left open before at, and reports it; at when
// none is found.
func (s source) unclosed(at Pos, open, closing token.Type, never, expected string) (Pos, string) {
	var stack []Pos
	for _, tk := range lexer.Tokenize(s.text) {
		if tk.Position == nil || tk.Position.Line > at.Line || tk.Position.Line == at.Line && tk.Position.Column >= at.Col {
			break
		}
		switch tk.Type {
		case open:
			stack = append(stack, Pos{tk.Position.Line, tk.Position.Column})
		case closing:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(stack) > 0 {
		at = stack[len(stack)-1]
	} else if c := s.at(at); c != '[' && c != '{' {
		return at, expected
	}
	if strings.Count(string(s.line(at.Line)), `"`)%2 == 1 {
		never += "; or a `\"` on this line lacks its closing `\"`"
	}
	return at, never
}

// fallback words yaml.v3's own finding, at the first character of its line.
func (s source) fallback(line int, msg string) (Pos, string) {
	switch {
	case strings.Contains(msg, "tab character") || strings.Contains(msg, "cannot start any token") && s.firstTab(line) > 0:
		if col := s.firstTab(line); col > 0 {
			return Pos{line, col}, "tabs cannot indent YAML; use spaces"
		}
	case strings.HasPrefix(msg, "unknown anchor "):
		name := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(msg, "unknown anchor "), " referenced"), "'")
		for n, l := range s.lines {
			if i := strings.Index(string(l), "*"+name); i >= 0 {
				return Pos{n + 1, len([]rune(string(l)[:i])) + 1}, fmt.Sprintf("`*%s` names no anchor: write `&%s` on the value it stands for, before it", name, name)
			}
		}
	}
	if line == 0 {
		return Pos{}, msg
	}
	return s.start(line), msg
}
