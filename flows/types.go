package flows

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/parser/lexer"
	"github.com/expr-lang/expr/types"

	"github.com/ventanilla-gob/ventanilla/flows/validate"
	"github.com/ventanilla-gob/ventanilla/internal/tmpl"
)

// What the lint knows of the types of a flow's variables: an input saves
// text, or a whole number when it is validated as a range; a rating is a
// whole number; a set step's variable has the type of its expression; what
// a call or a list saves is not known (the services declare no types).
// Every expression is then checked by the expression language's own type
// checker against those types, once, when the flow loads: the programs
// that hops run are compiled as before and cost nothing more.
//
// The types are the same at every step of a flow (a citizen who goes back
// meets values set further on); a variable given two types, or written by
// another flow the conversation can pass through, is of any type.

// vtype is what the lint knows of a variable's values: their type as
// expressions see them (nil: anything) and what gives it, for messages.
type vtype struct {
	t    reflect.Type
	from string
}

var (
	textType   = reflect.TypeFor[string]()
	intType    = reflect.TypeFor[int64]()
	floatType  = reflect.TypeFor[float64]()
	boolType   = reflect.TypeFor[bool]()
	anyVarType = vtype{}
)

// gatewayTypes are the types of the gateway's variables (chat is nil
// outside chat platforms, so of any type).
var gatewayTypes = map[string]vtype{
	"phone":           {textType, "the gateway sets it"},
	"channel":         {textType, "the gateway sets it"},
	"locale":          {textType, "the gateway sets it"},
	"carrier":         {textType, "the gateway sets it"},
	"language_chosen": {boolType, "the gateway sets it"},
}

// typedWriter is a writer that knows the types of what it saves; what it
// writes and does not list here is of any type.
type typedWriter interface {
	savedTypes(s *Step) map[string]vtype
}

// validatedType is the type an input's answer is saved as by the last of
// its validators (each checks the answer as typed; the last one's value is
// saved), or text without any.
func validatedType(step string, vs []ValidatorSpec) vtype {
	if len(vs) == 0 {
		return vtype{textType, fmt.Sprintf("input step %q saves what the citizen types", step)}
	}
	kind := vs[len(vs)-1].Spec.Kind
	for _, k := range validate.Kinds() {
		if k.Name != kind {
			continue
		}
		switch k.Saves {
		case validate.TypeInt:
			return vtype{intType, fmt.Sprintf("input step %q validates it as %s", step, kind)}
		case validate.TypeDate:
			return vtype{textType, fmt.Sprintf("input step %q validates it as a date, saved as text \"YYYY-MM-DD\"", step)}
		case validate.TypeString:
			return vtype{textType, fmt.Sprintf("input step %q validates it as %s", step, kind)}
		}
	}
	return anyVarType
}

// normalType is the type a value keeps in a session: whole numbers are
// stored as int64, and unknown, nil and interface types are anything.
func normalType(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return intType
	case reflect.Float32, reflect.Float64:
		return floatType
	case reflect.Interface, reflect.Pointer, reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Invalid:
		return nil
	}
	return t
}

func numberType(t reflect.Type) bool { return t == intType || t == floatType }

// varTypes finds the type of each variable the flow writes.
func (c *compiler) varTypes() map[string]vtype {
	f := c.f
	out := map[string]vtype{}
	for k, v := range gatewayTypes {
		out[k] = v
	}
	anything := map[string]bool{}
	// join adds a way the flow sets name. Values of two known types make
	// it a variable of any type, whose uses cannot be checked: a warning
	// where that happens (at, path; unless the types are both numbers).
	join := func(name string, v vtype, at Pos, path string) bool {
		if anything[name] || name == "locale" {
			// locale stays text: setting it to anything else is ignored.
			return false
		}
		cur, ok := out[name]
		switch {
		case !ok && v.t != nil:
			out[name] = v
		case ok && v.t != nil && cur.t == v.t:
			return false
		default:
			if ok && cur.t != nil && v.t != nil && path != "" && !(numberType(cur.t) && numberType(v.t)) {
				c.r.warnf(at, path, "type-change", "%s would hold %s (%s) and %s (%s): the expressions that read it cannot be checked; use another variable",
					name, typeWords(cur.t.String()), cur.from, typeWords(v.t.String()), v.from)
			}
			anything[name] = true
			out[name] = anyVarType
		}
		return true
	}
	type assign struct {
		step *Step
		a    *Assign
	}
	var sets []assign
	written := map[string]bool{}
	for _, id := range f.Order {
		s := f.Steps[id]
		if set, ok := s.body.(*setStep); ok {
			for _, a := range set.Assign {
				sets = append(sets, assign{s, a})
				written[a.Name] = true
			}
			continue
		}
		typed := map[string]vtype{}
		if tw, ok := s.body.(typedWriter); ok {
			typed = tw.savedTypes(s)
		}
		k, _ := kindByName(s.Kind)
		for _, ev := range k.Events {
			var names []string
			if w, ok := s.body.(writer); ok {
				names = append(names, w.writes(ev)...)
			}
			if m, ok := s.body.(mayWriter); ok {
				names = append(names, m.mayWrite(ev)...)
			}
			for _, n := range names {
				written[n] = true
				join(n, typed[n], s.Pos, s.Path)
			}
		}
		if g, ok := s.body.(*gotoStep); ok && c.env.flowWrites != nil {
			for _, n := range c.env.flowWrites(g.Flow.ID) {
				join(n, anyVarType, Pos{}, "")
			}
		}
	}
	// A flow's params come from outside the conversation, of any type.
	for _, n := range f.Params {
		join(n, anyVarType, Pos{}, "")
	}
	if c.env.callerWrites != nil {
		for _, n := range c.env.callerWrites(f.ID) {
			join(n, anyVarType, Pos{}, "")
		}
	}
	// A set step's type depends on the types of what it reads: first
	// leave out the expressions that read a variable not typed yet, then
	// take every one, until nothing changes.
	pending := func(e *Expr) bool {
		for _, n := range readVars(e.Src) {
			if _, typed := out[n]; written[n] && !typed && !anything[n] {
				return true
			}
		}
		return false
	}
	skip := true
	for round := 0; round < 4*len(sets)+4; round++ {
		changed := false
		cfg := typeConfig(typeEnv(out), false)
		for _, p := range sets {
			if p.a.Expr.prog == nil || (skip && pending(&p.a.Expr)) {
				continue
			}
			t := normalType(exprType(&p.a.Expr, cfg))
			if join(p.a.Name, vtype{t, fmt.Sprintf("set step %q gives it %s", p.step.ID, exprShown(&p.a.Expr))}, p.a.Pos, p.a.Path) {
				changed = true
				cfg = typeConfig(typeEnv(out), false)
			}
		}
		if !changed {
			if !skip {
				break
			}
			skip = false
		}
	}
	return out
}

// exprShown is an expression as an author wrote it, shortened.
func exprShown(e *Expr) string {
	s := e.Src
	if len([]rune(s)) > 30 {
		s = string([]rune(s)[:27]) + "…"
	}
	return "`" + s + "`"
}

// typeEnv is the environment of the type checker: every typed variable;
// the others are left out, and so of any type.
func typeEnv(vars map[string]vtype) types.Map {
	env := types.Map{}
	for name, v := range vars {
		if v.t != nil {
			env[name] = types.TypeOf(reflect.Zero(v.t).Interface())
		}
	}
	return env
}

// typeConfig is what the type checker checks an expression with: the
// options it compiles with and the typed variables.
func typeConfig(env types.Map, cond bool) *conf.Config {
	cfg := conf.CreateNew()
	// The environment resets strictness: undefined variables are the
	// lint's to report, so they stay allowed.
	opts := append(slices.Clip(exprOptions), expr.Env(env), expr.AllowUndefinedVariables())
	if cond {
		opts = append(opts, expr.AsBool())
	}
	for _, opt := range opts {
		opt(cfg)
	}
	for name := range cfg.Disabled {
		delete(cfg.Builtins, name)
	}
	return cfg
}

// exprType is the type of an expression's value, nil when unknown.
func exprType(e *Expr, cfg *conf.Config) reflect.Type {
	tree, err := checker.ParseCheck(e.Src, cfg)
	if err != nil {
		return nil
	}
	return tree.Node.Type()
}

// typeCheck checks every expression the steps read against the types of
// the variables, and the holes of texts against what they look into.
func (c *compiler) typeCheck() {
	vars := c.varTypes()
	env := typeEnv(vars)
	plain, cond := typeConfig(env, false), typeConfig(env, true)
	for _, r := range c.reads {
		if r.e == nil {
			c.holeTypes(r, vars)
			continue
		}
		cfg := plain
		if r.cond {
			cfg = cond
		}
		tree, err := checker.ParseCheck(r.e.Src, cfg)
		if err != nil {
			c.exprError(r.e, err, "type-mismatch", vars)
			continue
		}
		if l, ok := r.step.body.(*listStep); ok && r.e == &l.Items {
			c.listItems(r.e, tree.Node, vars)
		}
	}
}

// listItems refuses items that cannot be a list's options: a list shows
// an array of values (what a call saved, a set step's [ … ]).
func (c *compiler) listItems(e *Expr, n ast.Node, vars map[string]vtype) {
	t := n.Type()
	if t == nil || t.Kind() == reflect.Interface {
		return
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Interface {
		return
	}
	what := typeWords(t.String())
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		what += " of " + typeWords(t.Elem().String())
	}
	c.r.errorf(e.at.at(e.Pos, 0), e.Path, "type-mismatch", "items is %s, but a list shows an array of values (such as what a call saved)%s", what, c.because(n, vars))
}

// holeTypes refuses {{a.b}} where a is known to be text, a number or true
// or false: such a hole always shows nothing.
func (c *compiler) holeTypes(r read, vars map[string]vtype) {
	for _, u := range c.textUses(r) {
		if len(u.fields) == 0 {
			c.holeFormat(u, vars)
			continue
		}
		v, ok := vars[u.name]
		if !ok || v.t == nil {
			continue
		}
		switch v.t.Kind() {
		case reflect.Map, reflect.Slice, reflect.Interface:
			continue
		}
		c.r.errorf(u.at, u.path, "type-mismatch", "{{%s.%s}} always shows nothing: %s is %s (%s), which has no fields", u.name, strings.Join(u.fields, "."), u.name, typeWords(v.t.String()), v.from)
	}
}

// holeFormat warns of {{a | money}} where a is known to be of a type the
// format does not read: the value is shown as it is.
func (c *compiler) holeFormat(u use, vars map[string]vtype) {
	v, ok := vars[u.name]
	if u.format == tmpl.Plain || !ok || v.t == nil {
		return
	}
	k := v.t.Kind()
	reads := k == reflect.String || k == reflect.Interface
	if u.format == tmpl.Number || u.format == tmpl.Money {
		reads = reads || (k >= reflect.Int && k <= reflect.Float64)
	}
	if !reads {
		c.r.warnf(u.at, u.path, "format-mismatch", "{{%s | %s}} shows %s as it is: it is %s (%s), and %s reads %s", u.name, u.format, u.name, typeWords(v.t.String()), v.from, u.format, formatReads[u.format])
	}
}

// formatReads says what each format reads, for its warning.
var formatReads = map[tmpl.Format]string{
	tmpl.Number: "numbers and numerals",
	tmpl.Money:  "numbers and numerals",
	tmpl.Date:   "ISO dates written as text",
	tmpl.Time:   "times written as text",
}

// because explains the types of the variables an operand reads.
func (c *compiler) because(n ast.Node, vars map[string]vtype) string {
	var out []string
	seen := map[string]bool{}
	ast.Find(n, func(n ast.Node) bool {
		id, ok := n.(*ast.IdentifierNode)
		if !ok || seen[id.Value] {
			return false
		}
		seen[id.Value] = true
		if v, ok := vars[id.Value]; ok && v.t != nil {
			out = append(out, fmt.Sprintf("%s is %s (%s)", id.Value, typeWords(v.t.String()), v.from))
		}
		return false
	})
	if len(out) == 0 {
		return ""
	}
	return ": " + strings.Join(out, "; ")
}

// typeWords names a type the way flow authors speak of values.
func typeWords(t string) string {
	switch {
	case t == "string":
		return "text"
	case t == "bool":
		return "true or false"
	case t == "interface {}" || t == "any":
		return "any value"
	case t == "nil" || t == "<nil>":
		return "nil"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint") || strings.HasPrefix(t, "float"):
		return "a number"
	case t == "[]string":
		return "a list of texts"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "an object"
	case strings.HasPrefix(t, "time."):
		return "a time"
	}
	return t
}

var (
	mismatched  = regexp.MustCompile(`^invalid operation: (\S+) \(mismatched types? (.+?)(?: and (.+?))?\)$`)
	takesArray  = regexp.MustCompile(`^builtin (\w+) takes only array \(got (.+)\)$`)
	badArgument = regexp.MustCompile(`^invalid argument for (\w+) \(type (.+)\)$`)
	cannotUse   = regexp.MustCompile(`^cannot use (.+) as argument \(type (.+)\) to call (\w+)\s*$`)
	notEnough   = regexp.MustCompile(`^not enough arguments to call (\w+)$`)
	nonBool     = regexp.MustCompile(`^non-bool expression \(type (.+)\) used as condition$`)
	expectedB   = regexp.MustCompile(`^expected bool, but got (.+)$`)
	noField     = regexp.MustCompile(`^type (.+) has no field (\w+)$`)
	noMethod    = regexp.MustCompile(`^type (.+) has no method (\w+)$`)
	unexpected  = regexp.MustCompile(`^unexpected token (\w+)(?:\("(.*)"\))?$`)
	goTypeNames = regexp.MustCompile(`\b(?:u?int\d*|float\d+|string|bool|interface \{\}|\[\]interface \{\}|map\[string\]interface \{\})\b`)
)

// exprError reports an expression's error where its fault is in the file,
// worded for the people who write flows.
func (c *compiler) exprError(e *Expr, err error, code string, vars map[string]vtype) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		// What the whole expression gives is checked last, without a
		// position: the fault is the expression itself.
		fe = &file.Error{Message: firstLine(err.Error())}
	}
	at, msg := fe.From, c.wording(e, fe, vars)
	if m := unexpected.FindStringSubmatch(fe.Message); m != nil && m[1] == "EOF" {
		if open, closer := unclosed(e.Src); open >= 0 {
			at = utf8.RuneCountInString(e.Src[:open])
			msg = fmt.Sprintf("missing `%s`: the `%s` here is never closed", closer, e.Src[open:open+1])
		} else if last, ok := lastToken(e.Src); ok {
			at = last.From
			msg = fmt.Sprintf("the expression ends too early: something is missing after `%s`", last.Value)
		}
	}
	c.r.errorf(e.at.at(e.Pos, at), e.Path, code, "%s", msg)
}

// wording rewords the expression language's messages.
func (c *compiler) wording(e *Expr, fe *file.Error, vars map[string]vtype) string {
	msg := fe.Message
	node := nodeAt(e.Src, fe.From)
	why := ""
	if node != nil {
		why = c.because(node, vars)
	}
	if m := mismatched.FindStringSubmatch(msg); m != nil {
		op := m[1]
		if m[3] == "" {
			return fmt.Sprintf("`%s` does not apply to %s%s", op, typeWords(m[2]), why)
		}
		l, r := typeWords(m[2]), typeWords(m[3])
		switch op {
		case "+", "-", "*", "/", "%", "**", "^":
			return fmt.Sprintf("cannot compute %s `%s` %s%s", l, op, r, why) + convertHint(l, r, node)
		case "==", "!=", "<", ">", "<=", ">=":
			return fmt.Sprintf("cannot compare %s with %s%s", l, r, why) + convertHint(l, r, node)
		}
		return fmt.Sprintf("`%s` cannot join %s and %s%s", op, l, r, why)
	}
	if m := takesArray.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s needs a list, not %s%s", m[1], typeWords(m[2]), why)
	}
	if m := badArgument.FindStringSubmatch(msg); m != nil {
		needs := map[string]string{"len": "text, a list or an object", "int": "a number or text", "float": "a number or text", "abs": "a number", "join": "a list of texts", "mean": "a list of numbers", "median": "a list of numbers"}[m[1]]
		if needs == "" {
			return fmt.Sprintf("%s cannot take %s%s", m[1], typeWords(m[2]), why)
		}
		return fmt.Sprintf("%s needs %s, not %s%s", m[1], needs, typeWords(m[2]), why)
	}
	if m := cannotUse.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s needs %s, not %s%s", m[3], typeWords(m[2]), typeWords(m[1]), why)
	}
	if m := notEnough.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s cannot take these arguments%s; the functions are listed in docs/flows.md", m[1], why)
	}
	if m := nonBool.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("a condition must be true or false, not %s%s", typeWords(m[1]), why)
	}
	if m := expectedB.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("a condition must give true or false; this gives %s%s", typeWords(m[1]), why)
	}
	if m := noField.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s has no field %s%s", typeWords(m[1]), m[2], why)
	}
	if m := noMethod.FindStringSubmatch(msg); m != nil {
		if _, fn := slices.BinarySearch(functions(), m[2]); fn {
			return fmt.Sprintf("values have no methods: call the function with the value as its first argument, %s(…)", m[2])
		}
		return fmt.Sprintf("values have no methods, and there is no function %s; the functions are listed in docs/flows.md", m[2])
	}
	if m := unexpected.FindStringSubmatch(msg); m != nil {
		switch {
		case m[1] == "EOF":
			return "the expression ends too early: something is missing at its end"
		case m[1] == "Bracket" && strings.ContainsAny(m[2], ")]}"):
			return fmt.Sprintf("unexpected `%s`: there is no opening one for it", m[2])
		case m[1] == "Identifier" || m[1] == "Number" || m[1] == "String":
			return fmt.Sprintf("unexpected `%s`: an operator (+, ==, and …) or a comma may be missing before it", tokenShown(m[1], m[2]))
		}
		return fmt.Sprintf("unexpected `%s`", m[2])
	}
	if msg == "literal not terminated" {
		return "a quoted text is not closed: its closing quote is missing"
	}
	if strings.HasPrefix(msg, "unknown name ") {
		return msg
	}
	return goTypeNames.ReplaceAllStringFunc(msg, typeWords)
}

func tokenShown(kind, v string) string {
	if kind == "String" {
		return fmt.Sprintf("%q", v)
	}
	return v
}

// convertHint suggests the conversion a mixed text and number needs: a
// number written in quotes loses them, a number written out is quoted to
// match a text, and otherwise the text is converted.
func convertHint(l, r string, n ast.Node) string {
	if !((l == "text" && r == "a number") || (l == "a number" && r == "text")) {
		return ""
	}
	if b, ok := n.(*ast.BinaryNode); ok {
		for _, side := range []ast.Node{b.Left, b.Right} {
			switch lit := side.(type) {
			case *ast.StringNode:
				if _, err := strconv.ParseFloat(lit.Value, 64); err == nil {
					return fmt.Sprintf("; write the number without quotes, %s", lit.Value)
				}
			case *ast.IntegerNode:
				if b.Operator != "+" && b.Operator != "-" && b.Operator != "*" && b.Operator != "/" {
					return fmt.Sprintf("; write the number in quotes, \"%d\", or convert the text with int(…)", lit.Value)
				}
			}
		}
	}
	return "; convert the text with int(…) or float(…)"
}

// nodeAt is the innermost node of an expression that starts at offset.
func nodeAt(src string, offset int) ast.Node {
	tree, err := exprparser.Parse(src)
	if err != nil {
		return nil
	}
	var operation, other ast.Node
	ast.Find(tree.Node, func(n ast.Node) bool {
		if n.Location().From != offset {
			return false
		}
		switch n.(type) {
		case *ast.BinaryNode, *ast.BuiltinNode, *ast.CallNode, *ast.UnaryNode, *ast.ConditionalNode:
			operation = n
		default:
			other = n
		}
		return false
	})
	if operation != nil {
		return operation
	}
	if other != nil {
		return other
	}
	if offset == 0 {
		return tree.Node
	}
	return nil
}

// lastToken is the last token of an expression.
func lastToken(src string) (lexer.Token, bool) {
	toks, err := lexer.Lex(file.NewSource(src))
	if err != nil {
		return lexer.Token{}, false
	}
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i].Kind != lexer.EOF {
			return toks[i], true
		}
	}
	return lexer.Token{}, false
}

// unclosed finds the first bracket of an expression that is never closed:
// its byte offset and the bracket that closes it, or -1.
func unclosed(src string) (int, string) {
	closers := map[byte]byte{'(': ')', '[': ']', '{': '}'}
	var stack []int
	var quote byte
	for i := 0; i < len(src); i++ {
		ch := src[i]
		switch {
		case quote != 0:
			if ch == '\\' {
				i++
			} else if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'' || ch == '`':
			quote = ch
		case closers[ch] != 0:
			stack = append(stack, i)
		case ch == ')' || ch == ']' || ch == '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(stack) == 0 {
		return -1, ""
	}
	open := stack[len(stack)-1]
	return open, string(closers[src[open]])
}
