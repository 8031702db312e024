// Package flows is the flow language and the dialog engine: it loads the YAML
// flow files institutions write, lints them with file:line:col positions,
// compiles them once into state machines, and runs one hop of a conversation
// on a session. It knows nothing of HTTP, carriers or session stores: input
// arrives as text, output leaves as a channel-neutral Screen.
package flows
