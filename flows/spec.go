package flows

// FieldType is the type of a field of a step as flow authors write it.
type FieldType string

// Field types of the flow language.
const (
	TypeText       FieldType = "text"        // {es: …, en: …, qu: …} or a message id
	TypeStep       FieldType = "step"        // id of a step of the same flow
	TypeFlow       FieldType = "flow"        // id of another flow
	TypeService    FieldType = "service"     // id of a back-end service declared in configuration
	TypeVar        FieldType = "variable"    // a variable name
	TypeExpr       FieldType = "expression"  // an expression (expr language)
	TypeCondition  FieldType = "condition"   // an expression that yields true or false
	TypeInt        FieldType = "integer"     // a whole number
	TypeBool       FieldType = "boolean"     // true or false
	TypeString     FieldType = "string"      // free text, not shown to citizens
	TypeOptions    FieldType = "options"     // list of {label, next, when}
	TypeCases      FieldType = "cases"       // list of {when, next}
	TypeAssigns    FieldType = "assignments" // map of variable: expression
	TypeMapping    FieldType = "mapping"     // map of variable: JSON path
	TypeValidators FieldType = "validators"  // {kind: …, args…} or a list of them
	TypeOutcomes   FieldType = "outcomes"    // map of outcome: step
	TypeDurations  FieldType = "durations"   // list of durations: [24h, 2h]
)

// FieldSpec describes one field of a step kind (or of the flow itself).
type FieldSpec struct {
	Name     string
	Type     FieldType
	Required bool
	Doc      string
	Values   []string       // the only values allowed, when they are a closed set (the JSON Schema's enum)
	bind     func(body) any // where the loader puts the value in the step's body
}

// KindSpec describes one step kind: its fields, the events it can raise, and
// an example. This one description drives the loader (which fields exist and
// their types), the lint, the generated reference in docs/flows.md and the
// JSON Schema for editors. The kind's behaviour is its body's (step.go).
type KindSpec struct {
	Name    string
	Doc     string
	Waits   bool     // the step shows a screen and waits for the citizen (its body is a waiting one)
	Events  []string // outcomes that leave the step ("option:N" stands for each option)
	Fields  []FieldSpec
	Example string      // a complete, lint-clean flow showing the kind
	new     func() body // an empty body for a step of the kind
}

// Common fields every step has.
var commonFields = []FieldSpec{
	{Name: "kind", Type: TypeString, Required: true, Doc: "The step kind."},
	{Name: "note", Type: TypeString, Doc: "A comment for other authors; never shown."},
}

// Kinds returns the step kinds of the flow language, in documentation order.
// Public for the tests that generate and check the authoring reference
// from this one description.
func Kinds() []KindSpec { return kinds }

func kindByName(name string) (*KindSpec, bool) {
	for i := range kinds {
		if kinds[i].Name == name {
			return &kinds[i], true
		}
	}
	return nil, false
}

// kinds are the step kinds of the flow language, in documentation order:
// the one list a kind is registered in. Each is described and implemented
// in its own file, step_<name>.go.
var kinds = []KindSpec{
	menuKind,
	listKind,
	inputKind,
	branchKind,
	setKind,
	callKind,
	messageKind,
	endKind,
	gotoKind,
	smsKind,
	rateKind,
	remindKind,
}

// FlowFields describes the top-level fields of a flow file.
var FlowFields = []FieldSpec{
	{Name: "spec_version", Type: TypeInt, Required: true, Doc: "Version of this file format; 1."},
	{Name: "id", Type: TypeString, Required: true, Doc: "Readable id, lower case with dashes: `turnos`."},
	{Name: "version", Type: TypeInt, Required: true, Doc: "Version of the flow; raise it on every change. Conversations finish on the version they started on."},
	{Name: "institution", Type: TypeString, Required: true, Doc: "The institution that owns the flow. In an institution package, the package's id (`transito`): the gateway counts, reminds and calls back a package's flows under its id whatever this says, and the lint warns (`wrong-institution`) when it names another."},
	{Name: "title", Type: TypeText, Required: true, Doc: "The flow's name as citizens see it in menus."},
	{Name: "locales", Type: TypeString, Required: true, Doc: "The locales the flow is written in: `[es, en, qu]`. The first is the fallback."},
	{Name: "start", Type: TypeStep, Required: true, Doc: "The entry step."},
	{Name: "level", Type: TypeInt, Doc: "Citizen authentication level required: 0 anonymous (default); 1 the number verified by the carrier (always on USSD and SMS, once shared on chat platforms) — the lint requires it of a flow that shows or sends a number or national id; 2 also a one-time code sent by SMS to that number and typed back, or a PIN the citizen set after one (needs an SMS carrier)."},
	{Name: "vars", Type: TypeString, Doc: "Declared variables: `name: {max_length: N}` bounds what `{{name}}` can add to a screen (default 20)."},
	{Name: "params", Type: TypeString, Doc: "Variables the flow is started with when it answers a reminder or a notification (a `reply` flow, see docs/notifications.md): `[reply, booking]` — `reply` is the citizen's answer, the others the reminder's `vars`. The lint takes them as set at the start."},
	{Name: "messages", Type: TypeText, Doc: "Texts used by id from several steps: `id: {es: …, en: …}`."},
	{Name: "steps", Type: TypeString, Required: true, Doc: "The steps, keyed by readable ids."},
}
