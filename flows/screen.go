package flows

// Screen is what the engine says after a hop, before any channel shapes it:
// a body, numbered options and the localised navigation hints a channel may
// show. USSD pages it, SMS segments it, chat platforms turn options into
// buttons.
type Screen struct {
	Text    string   // body: pending messages and the prompt, already localised
	Options []Option // choices in display order; Key is what the citizen types
	Nav     Nav
	End     bool   // the conversation is over
	Retry   bool   // the answer was not accepted and the screen asks again
	Page    int    // which page of this screen the citizen asked for
	Locale  string // locale the texts are in
}

// Option is one numbered choice.
type Option struct {
	Key   string // "1", "2", …
	Label string
}

// Nav carries the navigation keys with labels in the screen's locale. A zero
// Option means the key does not apply on this screen (e.g. no Back on the
// first screen). More and Prev are always filled in; the channel shows it only when it
// has to split the screen into pages.
type Nav struct {
	Back Option
	Home Option
	More Option
	// Prev is the Back key and label, always filled in: the channel shows it
	// on the second and later pages of a split screen, where the key means
	// "previous page" even when Back does not apply.
	Prev Option
}
