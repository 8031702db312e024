package flows

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"
)

// Bounds on what expressions may build, so that one institution's flow
// cannot take the memory or the processor that every other citizen's hop
// needs. expr counts the items its loops, ranges, arrays and maps make;
// the strings a flow builds are counted here, before they are built.
const (
	// MaxStringLen is the longest string an expression may build: far more
	// than a screen or an SMS needs.
	MaxStringLen = 4 << 10
	// MaxHopBuild is how many bytes of strings all the expressions of one
	// hop may build together.
	MaxHopBuild = 64 << 10
	// MaxExprItems is expr's memory budget per evaluation: the items its
	// ranges, loops, arrays and maps may make.
	MaxExprItems = 5_000
	// MaxSessionSize is the most an encoded session may weigh; a hop that
	// would store more ends the conversation with a localised apology.
	MaxSessionSize = 256 << 10
)

// ErrBudget: an expression would build more than the bounds above allow.
var ErrBudget = errors.New("expression over its budget")

// budgetVar is where an evaluation finds the hop's budget: "$" keeps
// flows from naming it.
const budgetVar = "$budget"

// buildBudget counts the bytes of strings a hop's expressions build.
type buildBudget struct{ left int }

func newBuildBudget() *buildBudget { return &buildBudget{left: MaxHopBuild} }

// take reserves n bytes for a string about to be built.
func (b *buildBudget) take(n int) error {
	if n > MaxStringLen {
		return fmt.Errorf("%w: a string of %d bytes; the limit is %d", ErrBudget, n, MaxStringLen)
	}
	if b == nil {
		return nil
	}
	if n > b.left {
		return fmt.Errorf("%w: strings built in one hop exceed %d bytes", ErrBudget, MaxHopBuild)
	}
	b.left -= n
	return nil
}

func budgetOf(v any) *buildBudget {
	if b, ok := v.(*buildBudget); ok {
		return b
	}
	// An evaluation outside a hop (the lint) gets its own.
	return newBuildBudget()
}

// runBounded runs a program under expr's item budget.
func runBounded(prog *vm.Program, vars map[string]any) (any, error) {
	m := vm.VM{MemoryBudget: MaxExprItems}
	return m.Run(prog, vars)
}

// overBudget reports whether an evaluation failed on one of the bounds.
func overBudget(err error) bool {
	return err != nil && (errors.Is(err, ErrBudget) || strings.Contains(err.Error(), "memory budget exceeded"))
}

// guarded are the builtins that can build a string larger than their
// arguments; each runs through a wrapper that counts the result first.
var guarded = map[string]func(b *buildBudget, args []any) (any, error){
	"repeat": func(b *buildBudget, args []any) (any, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("repeat takes a string and a count")
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("repeat: %T is not a string", args[0])
		}
		n := runtime.ToInt(args[1])
		if n < 0 {
			return nil, fmt.Errorf("repeat: negative count %d", n)
		}
		if len(s) > 0 && n > MaxStringLen/len(s)+1 {
			return nil, fmt.Errorf("%w: repeat would build %d×%d bytes; the limit is %d", ErrBudget, len(s), n, MaxStringLen)
		}
		if err := b.take(len(s) * n); err != nil {
			return nil, err
		}
		return strings.Repeat(s, n), nil
	},
	"join": func(b *buildBudget, args []any) (any, error) {
		glue := ""
		if len(args) == 2 {
			glue, _ = args[1].(string)
		}
		n := 0
		switch l := args[0].(type) {
		case []string:
			for _, s := range l {
				n += len(s) + len(glue)
			}
		case []any:
			for _, s := range l {
				str, ok := s.(string)
				if !ok {
					return nil, fmt.Errorf("join: %T is not a string", s)
				}
				n += len(str) + len(glue)
			}
		}
		if err := b.take(n); err != nil {
			return nil, err
		}
		return builtinFunc("join")(args...)
	},
	"replace": func(b *buildBudget, args []any) (any, error) {
		if len(args) >= 3 {
			s, _ := args[0].(string)
			old, _ := args[1].(string)
			repl, _ := args[2].(string)
			k := strings.Count(s, old)
			if len(args) == 4 {
				if m := runtime.ToInt(args[3]); m >= 0 && m < k {
					k = m
				}
			}
			if grow := len(repl) - len(old); grow > 0 {
				if k > MaxStringLen/grow+1 {
					return nil, fmt.Errorf("%w: replace would build over %d bytes", ErrBudget, MaxStringLen)
				}
				if err := b.take(len(s) + k*grow); err != nil {
					return nil, err
				}
			}
		}
		return builtinFunc("replace")(args...)
	},
	// These build a string in proportion to a value the session already
	// holds (bounded by MaxSessionSize); the result is counted once built.
	"toJSON":   counted("toJSON"),
	"string":   counted("string"),
	"toBase64": counted("toBase64"),
}

func counted(name string) func(*buildBudget, []any) (any, error) {
	return func(b *buildBudget, args []any) (any, error) {
		out, err := builtinFunc(name)(args...)
		if s, ok := out.(string); ok && err == nil {
			err = b.take(len(s))
		}
		return out, err
	}
}

// builtinFunc returns expr's own implementation of a builtin.
func builtinFunc(name string) func(args ...any) (any, error) {
	for _, f := range builtin.Builtins {
		if f.Name != name {
			continue
		}
		switch {
		case f.Func != nil:
			return f.Func
		case f.Safe != nil:
			return func(args ...any) (any, error) { v, _, err := f.Safe(args...); return v, err }
		case f.Fast != nil:
			return func(args ...any) (any, error) {
				if len(args) != 1 {
					return nil, fmt.Errorf("%s takes one argument", name)
				}
				return f.Fast(args[0]), nil
			}
		}
	}
	return func(...any) (any, error) { return nil, fmt.Errorf("%s is not available", name) }
}

// add is "+" with strings counted before they are built.
func add(args ...any) (any, error) {
	b := budgetOf(args[0])
	x, y := args[1], args[2]
	if xs, ok := x.(string); ok {
		if ys, ok := y.(string); ok {
			if err := b.take(len(xs) + len(ys)); err != nil {
				return nil, err
			}
			return xs + ys, nil
		}
	}
	return runtime.Add(x, y), nil
}

// budgetOptions make expressions run under the bounds: "+" and the
// builtins that build strings become calls of the counting versions,
// which find the hop's budget in the variable budgetVar.
func budgetOptions() []expr.Option {
	opts := []expr.Option{
		expr.Patch(guardPatcher{}),
		expr.Function("$add", add),
	}
	for name, fn := range guarded {
		opts = append(opts, expr.Function("$"+name, func(args ...any) (any, error) {
			return fn(budgetOf(args[0]), args[1:])
		}))
	}
	return opts
}

// guardPatcher rewrites "+" (unless both sides are numbers) and the
// string-building builtins into calls that count what they build.
type guardPatcher struct{}

func (guardPatcher) Visit(node *ast.Node) {
	budget := func() ast.Node { return &ast.IdentifierNode{Value: budgetVar} }
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator != "+" || (numeric(n.Left) && numeric(n.Right)) {
			return
		}
		ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "$add"}, Arguments: []ast.Node{budget(), n.Left, n.Right}})
	case *ast.BuiltinNode:
		if _, ok := guarded[n.Name]; !ok {
			return
		}
		args := append([]ast.Node{budget()}, n.Arguments...)
		ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "$" + n.Name}, Arguments: args})
	}
}

func numeric(n ast.Node) bool {
	t := n.Type()
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// readVars returns the variables an expression reads.
func readVars(src string) []string {
	tree, err := exprparser.Parse(src)
	if err != nil {
		return nil
	}
	var v identVisitor
	ast.Walk(&tree.Node, &v)
	return v.names
}

type identVisitor struct{ names []string }

func (v *identVisitor) Visit(node *ast.Node) {
	if n, ok := (*node).(*ast.IdentifierNode); ok {
		v.names = append(v.names, n.Value)
	}
}

// maxHopEvals bounds the expressions one hop evaluates, so that the steps
// a hop may run without the citizen (Engine.MaxAutoSteps) cannot multiply
// each expression's bounded cost without end.
const maxHopEvals = 256
