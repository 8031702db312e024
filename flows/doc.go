// Package flows is the flow language and the dialog engine: it loads the YAML
// flow files institutions write, lints them with file:line:col positions,
// compiles them once into state machines, and runs one hop of a conversation
// on a session. It knows nothing of HTTP, carriers or session stores: input
// arrives as text, output leaves as a channel-neutral Screen. What it
// needs of the outside — back-end calls (Caller), late texts (Notifier),
// PINs, the funnel (Observer) — it declares here, and the gateway plugs in.
//
// Each step kind is one file, step_<kind>.go: its description (fields,
// events, docs, example: the reference in docs/flows.md is generated from
// it) and its body, which compiles, measures and runs the step behind the
// interfaces of step.go. Adding a kind is that file, its tests, a line in
// the list in spec.go and `make docs`.
package flows
