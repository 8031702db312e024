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
	TypeString     FieldType = "string"      // free text, not shown to citizens
	TypeOptions    FieldType = "options"     // list of {label, next, when}
	TypeCases      FieldType = "cases"       // list of {when, next}
	TypeAssigns    FieldType = "assignments" // map of variable: expression
	TypeMapping    FieldType = "mapping"     // map of variable: JSON path
	TypeValidators FieldType = "validators"  // {kind: …, args…} or a list of them
	TypeOutcomes   FieldType = "outcomes"    // map of outcome: step
)

// FieldSpec describes one field of a step kind (or of the flow itself).
type FieldSpec struct {
	Name     string
	Type     FieldType
	Required bool
	Doc      string
	bind     func(*Step) any // where the loader puts the value
}

// KindSpec describes one step kind: its fields, the events it can raise, and
// an example. This one description drives the loader (which fields exist and
// their types), the lint, the generated reference in docs/flows.md and the
// JSON Schema for editors.
type KindSpec struct {
	Name    string
	Doc     string
	Waits   bool     // the step shows a screen and waits for the citizen
	Events  []string // outcomes that leave the step ("option:N" stands for each option)
	Fields  []FieldSpec
	Example string // a complete, lint-clean flow showing the kind
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

var kinds = []KindSpec{
	{
		Name:   "menu",
		Doc:    "Shows a text and numbered options; the citizen answers with the number of one. An option with `when` is shown only while its condition holds; the shown options are numbered 1, 2, 3… in order.",
		Waits:  true,
		Events: []string{"option:N"},
		Fields: []FieldSpec{
			{Name: "text", Type: TypeText, Required: true, Doc: "The text above the options.", bind: func(s *Step) any { return &s.Text }},
			{Name: "options", Type: TypeOptions, Required: true, Doc: "The options: each has a `label` (text), a `next` step and an optional `when` condition.", bind: func(s *Step) any { return &s.Options }},
		},
		Example: `spec_version: 1
id: example-menu
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: main
steps:
  main:
    kind: menu
    text: {es: "Elija una opción", en: "Choose an option"}
    options:
      - label: {es: Reservar turno, en: Book an appointment}
        next: booked
      - label: {es: Ver mis datos, en: See my details}
        when: 'phone != ""'
        next: booked
  booked:
    kind: end
    text: {es: Gracias., en: Thank you.}
`,
	},
	{
		Name:   "list",
		Doc:    "Numbered options built from a variable holding an array (for example the offices a back-end returned). The citizen's choice saves the whole item; the channel pages long lists by whole options.",
		Waits:  true,
		Events: []string{"selected", "empty"},
		Fields: []FieldSpec{
			{Name: "text", Type: TypeText, Required: true, Doc: "The text above the options.", bind: func(s *Step) any { return &s.Text }},
			{Name: "items", Type: TypeExpr, Required: true, Doc: "An expression yielding the array, usually a variable name.", bind: func(s *Step) any { return &s.Items }},
			{Name: "label", Type: TypeText, Required: true, Doc: "The label of each option; `{{item.field}}` refers to the item.", bind: func(s *Step) any { return &s.Label }},
			{Name: "save", Type: TypeVar, Required: true, Doc: "The variable that receives the chosen item.", bind: func(s *Step) any { return &s.Save }},
			{Name: "next", Type: TypeStep, Required: true, Doc: "Where to go after a choice.", bind: func(s *Step) any { return &s.Next }},
			{Name: "empty", Type: TypeStep, Doc: "Where to go when the array is empty; without it the list ends the conversation with the text alone.", bind: func(s *Step) any { return &s.Empty }},
			{Name: "max", Type: TypeInt, Doc: "Most options shown at once (default 9, at most 20); longer lists are truncated and should be filtered by the back-end.", bind: func(s *Step) any { return &s.Max }},
		},
		Example: `spec_version: 1
id: example-list
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: offices
steps:
  offices:
    kind: set
    vars:
      offices: '[{"name": "Quito Norte"}, {"name": "Cuenca"}]'
    next: pick
  pick:
    kind: list
    text: {es: "Elija la oficina", en: "Choose the office"}
    items: offices
    label: {es: "{{item.name}}", en: "{{item.name}}"}
    save: office
    next: done
  done:
    kind: end
    text: {es: "Oficina {{office.name}}.", en: "Office {{office.name}}."}
`,
	},
	{
		Name:   "input",
		Doc:    "Asks for a typed answer, checks it with the built-in validators and saves the normalised value. A wrong answer shows the error and asks again, up to `retries` times; then the flow goes to `on_fail`.",
		Waits:  true,
		Events: []string{"valid", "exhausted"},
		Fields: []FieldSpec{
			{Name: "text", Type: TypeText, Required: true, Doc: "The question.", bind: func(s *Step) any { return &s.Text }},
			{Name: "validate", Type: TypeValidators, Doc: "One validator `{kind: cedula}` or a list; all must pass. See the validators table.", bind: func(s *Step) any { return &s.Validate }},
			{Name: "error", Type: TypeText, Doc: "Shown above the question after a wrong answer; defaults to the validator's own message.", bind: func(s *Step) any { return &s.Error }},
			{Name: "retries", Type: TypeInt, Doc: "After this many wrong answers in a row the flow goes to `on_fail` (default 3, at most 10).", bind: func(s *Step) any { return &s.Retries }},
			{Name: "on_fail", Type: TypeStep, Doc: "Where to go after too many wrong answers; without it the conversation ends with a localised message.", bind: func(s *Step) any { return &s.OnFail }},
			{Name: "save", Type: TypeVar, Required: true, Doc: "The variable that receives the answer.", bind: func(s *Step) any { return &s.Save }},
			{Name: "next", Type: TypeStep, Required: true, Doc: "Where to go after a valid answer.", bind: func(s *Step) any { return &s.Next }},
		},
		Example: `spec_version: 1
id: example-input
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: ask
steps:
  ask:
    kind: input
    text: {es: "Escriba su cédula", en: "Type your ID number"}
    validate: {kind: cedula}
    retries: 2
    on_fail: bye
    save: cedula
    next: bye
  bye:
    kind: end
    text: {es: Gracias., en: Thank you.}
`,
	},
	{
		Name:   "branch",
		Doc:    "Goes to the `next` of the first case whose condition holds, or to `default`. Shows nothing.",
		Events: []string{"case:N", "default"},
		Fields: []FieldSpec{
			{Name: "cases", Type: TypeCases, Required: true, Doc: "Ordered `{when, next}` pairs.", bind: func(s *Step) any { return &s.Cases }},
			{Name: "default", Type: TypeStep, Required: true, Doc: "Where to go when no case holds.", bind: func(s *Step) any { return &s.Default }},
		},
		Example: `spec_version: 1
id: example-branch
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: check
steps:
  check:
    kind: branch
    cases:
      - when: 'locale == "en"'
        next: english
    default: other
  english:
    kind: end
    text: {es: Inglés., en: English.}
  other:
    kind: end
    text: {es: Otro idioma., en: Another language.}
`,
	},
	{
		Name:   "set",
		Doc:    "Assigns variables from expressions, in order. Setting `locale` changes the conversation's language and remembers it for the citizen's number.",
		Events: []string{"next"},
		Fields: []FieldSpec{
			{Name: "vars", Type: TypeAssigns, Required: true, Doc: "`variable: expression` pairs; strings in expressions are quoted: `status: '\"pending\"'`.", bind: func(s *Step) any { return &s.Assign }},
			{Name: "next", Type: TypeStep, Required: true, Doc: "The next step.", bind: func(s *Step) any { return &s.Next }},
		},
		Example: `spec_version: 1
id: example-set
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: init
steps:
  init:
    kind: set
    vars:
      attempts: "0"
      greeting: '"hola"'
    next: bye
  bye:
    kind: end
    text: {es: "Listo.", en: "Done."}
`,
	},
	{
		Name:   "call",
		Doc:    "Calls a back-end service declared in configuration (flows never hold URLs), saves fields of the JSON response into variables and goes on by outcome: `ok`, `not_found`, `rejected`, `error`, `timeout`, `unavailable`. An outcome without a route goes to the `error` route, or else ends the conversation with a localised message.",
		Events: []string{"ok", "not_found", "rejected", "error", "timeout", "unavailable"},
		Fields: []FieldSpec{
			{Name: "service", Type: TypeService, Required: true, Doc: "The id of the service.", bind: func(s *Step) any { return &s.Service }},
			{Name: "params", Type: TypeAssigns, Doc: "`name: expression` pairs: path parameters, then query (GET) or JSON body (POST).", bind: func(s *Step) any { return &s.Params }},
			{Name: "save", Type: TypeMapping, Doc: "`variable: json.path` pairs read from the response (`@this` is the whole body).", bind: func(s *Step) any { return &s.Map }},
			{Name: "on", Type: TypeOutcomes, Required: true, Doc: "`outcome: step` routes; `ok` is required.", bind: func(s *Step) any { return &s.On }},
			{Name: "async", Type: TypeString, Doc: "`sms`: when the back-end is slower than the hop allows, the conversation ends telling the citizen where the result will go, the flow finishes in the background once the back-end answers, and its final text goes out as one SMS — or, with no SMS carrier configured, is shown at the top of the citizen's next conversation, and the citizen is told that instead. What follows the call must end in a text (message, set, branch, call and end steps): a menu, input, list or goto after it is an error.", bind: func(s *Step) any { return &s.Async }},
		},
		Example: `spec_version: 1
id: example-call
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: lookup
steps:
  lookup:
    kind: call
    service: tramites.status
    params:
      number: '"1002"'
    save:
      status: status
    on:
      ok: show
      not_found: missing
  show:
    kind: end
    text: {es: "Estado: {{status}}", en: "Status: {{status}}"}
  missing:
    kind: end
    text: {es: No existe., en: Not found.}
`,
	},
	{
		Name:   "message",
		Doc:    "Adds a text to what the citizen sees next and goes on without waiting: on USSD the text appears above the next screen.",
		Events: []string{"next"},
		Fields: []FieldSpec{
			{Name: "text", Type: TypeText, Required: true, Doc: "The text.", bind: func(s *Step) any { return &s.Text }},
			{Name: "next", Type: TypeStep, Required: true, Doc: "The next step.", bind: func(s *Step) any { return &s.Next }},
		},
		Example: `spec_version: 1
id: example-message
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: hello
steps:
  hello:
    kind: message
    text: {es: "Bienvenido.", en: "Welcome."}
    next: bye
  bye:
    kind: end
    text: {es: "Hasta pronto.", en: "Goodbye."}
`,
	},
	{
		Name: "end",
		Doc:  "Shows a final text. In a flow entered with `goto`, the text is carried over and the calling flow goes on at the goto's `next`; otherwise the conversation ends.",
		Fields: []FieldSpec{
			{Name: "text", Type: TypeText, Required: true, Doc: "The final text.", bind: func(s *Step) any { return &s.Text }},
		},
		Example: `spec_version: 1
id: example-end
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: bye
steps:
  bye:
    kind: end
    text: {es: "Gracias por su visita.", en: "Thank you for your visit."}
`,
	},
	{
		Name:   "goto",
		Doc:    "Runs another flow from its start, in the same conversation and variables. When that flow ends, this flow goes on at `next`; without `next` the conversation ends there. A conversation holds at most 8 flows open at once: the lint refuses gotos that lead back to a flow already open (a cycle) or nest deeper; to come back to the caller, end the called flow.",
		Events: []string{"return"},
		Fields: []FieldSpec{
			{Name: "flow", Type: TypeFlow, Required: true, Doc: "The id of the flow to run.", bind: func(s *Step) any { return &s.Flow }},
			{Name: "next", Type: TypeStep, Doc: "Where to go on when the other flow ends.", bind: func(s *Step) any { return &s.Next }},
		},
		Example: `spec_version: 1
id: example-goto
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: run
steps:
  run:
    kind: goto
    flow: example-end
    next: after
  after:
    kind: end
    text: {es: "De vuelta.", en: "Back again."}
`,
	},
}

// FlowFields describes the top-level fields of a flow file.
var FlowFields = []FieldSpec{
	{Name: "spec_version", Type: TypeInt, Required: true, Doc: "Version of this file format; 1."},
	{Name: "id", Type: TypeString, Required: true, Doc: "Readable id, lower case with dashes: `turnos`."},
	{Name: "version", Type: TypeInt, Required: true, Doc: "Version of the flow; raise it on every change. Conversations finish on the version they started on."},
	{Name: "institution", Type: TypeString, Required: true, Doc: "The institution that owns the flow."},
	{Name: "title", Type: TypeText, Required: true, Doc: "The flow's name as citizens see it in menus."},
	{Name: "locales", Type: TypeString, Required: true, Doc: "The locales the flow is written in: `[es, en, qu]`. The first is the fallback."},
	{Name: "start", Type: TypeStep, Required: true, Doc: "The entry step."},
	{Name: "level", Type: TypeInt, Doc: "Citizen authentication level required: 0 anonymous (default); 1 the number verified by the carrier (always on USSD and SMS, once shared on chat platforms) — the lint requires it of a flow that shows or sends a number or national id; 2 also a one-time code sent by SMS to that number and typed back, or a PIN the citizen set after one (needs an SMS carrier)."},
	{Name: "vars", Type: TypeString, Doc: "Declared variables: `name: {max_length: N}` bounds what `{{name}}` can add to a screen (default 20)."},
	{Name: "messages", Type: TypeText, Doc: "Texts used by id from several steps: `id: {es: …, en: …}`."},
	{Name: "steps", Type: TypeString, Required: true, Doc: "The steps, keyed by readable ids."},
}
