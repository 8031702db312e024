package flows

import (
	"github.com/expr-lang/expr/vm"

	"github.com/ventanilla-gob/ventanilla/flows/validate"
)

// SpecVersion is the version of the flow file format this build reads.
const SpecVersion = 1

// Flow is one flow file as loaded, before compilation.
type Flow struct {
	File        string
	SpecVersion int
	ID          string
	Version     int
	Institution string
	Title       Text
	Locales     []string
	Start       Ref
	Level       int // citizen authentication level the flow requires (0 anonymous)
	Vars        map[string]VarDecl
	// Params are the variables the flow is started with from outside a
	// conversation: a reply flow's answer and its reminder's vars.
	Params   []string
	Messages map[string]*Text
	Steps    map[string]*Step
	Order    []string // step ids in file order
	Pos      Pos
	fieldPos map[string]Pos
	// localePos is where each of Locales is written.
	localePos []Pos
	// broken are the steps that could not be read (no kind, an unknown
	// one): going to them is not also an error.
	broken []string
	// unread are the paths whose values could not be read.
	unread map[string]bool
}

// VarDecl declares a variable so the lint can bound interpolated texts.
type VarDecl struct {
	MaxLength int
	Pos       Pos
}

// Step is one step of a flow: what every step has, and its body, the
// fields and behaviour of its kind (one file per kind, step_<kind>.go).
type Step struct {
	ID   string
	Kind string
	Pos  Pos
	Path string

	body     body
	fieldPos map[string]Pos
	valuePos map[string]Pos // where each field's value is
	// misspelt: a field's name is misspelt, so where it was meant to go
	// is unknown.
	misspelt bool
}

// MenuOption is one option of a menu step.
type MenuOption struct {
	Label Text
	Next  Ref
	When  Expr
	Pos   Pos
	Path  string
}

// Case is one condition of a branch step.
type Case struct {
	When Expr
	Next Ref
	Pos  Pos
	Path string
}

// Assign is "name: expression" (set, call params) or "name: json.path" (call save).
type Assign struct {
	Name string
	Expr Expr
	Pos  Pos
	Path string
}

// ValidatorSpec is one entry of an input step's validate field.
type ValidatorSpec struct {
	Spec   validate.Spec
	Pos    Pos
	Path   string
	ArgPos map[string]Pos // where each argument (and kind) was written
}

// Ref names a step (or a flow, a variable) and where it was written.
type Ref struct {
	ID   string
	Pos  Pos
	Path string
	key  Pos // where its key is, in a map of routes (outcome: step)
}

// Expr is an expression as written, and once compiled, its program.
type Expr struct {
	Src  string
	Pos  Pos
	Path string
	prog *vm.Program
	at   span // where its characters are in the file
}

// Text is a localised text: inline per locale, or the id of a message
// declared in the flow's messages or among the system messages.
type Text struct {
	ByLocale map[string]string
	MsgID    string
	Pos      Pos
	Path     string
	tmpl     map[string]template
	set      bool
	at       map[string]span // where each locale's characters are in the file
	msg      *Text           // the flow's message MsgID names, once resolved
}

// written is where the text's characters are written: the flow's message
// it names, or the text itself.
func (t *Text) written() *Text {
	if t.msg != nil {
		return t.msg
	}
	return t
}

// localePos is where the text of one locale is written, and its path; the
// text's own position when it is not written per locale (a system
// message's id, a locale it lacks).
func (t *Text) localePos(loc string) (Pos, string) {
	w := t.written()
	if sp, ok := w.at[loc]; ok {
		return sp.pos, w.Path + "." + loc
	}
	return t.Pos, t.Path
}

// IsZero reports whether the text was not written at all.
func (t *Text) IsZero() bool { return !t.set }
