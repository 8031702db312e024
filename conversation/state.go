package conversation

// State is the whole state of one conversation. It is what a hop reads at
// its start and writes at its end, so it stays small: the binary encoding in
// codec.go keeps a typical session well under 2 KiB.
type State struct {
	Key     string // store key, scoped by channel: "ussd:<carrier session id>"
	Phone   string // E.164
	Channel string // "ussd", "sms", "chat"
	Carrier string // e.g. "africastalking"
	Locale  string // "es", "en", "qu"

	// Frames is the call stack of flows: the last frame is the one running.
	// A goto pushes a frame; the end of the child flow pops it.
	Frames []Frame
	// History is the back stack used by the "back" navigation key.
	History []Mark
	// Vars holds the flow variables: string, bool, int64, float64, nil,
	// []any and map[string]any only (what JSON decoding yields).
	Vars map[string]any

	Retries int    // failed attempts at the current input step
	Page    int    // page of the current screen the citizen is on
	Seq     int    // hops applied so far
	Trail   string // cumulative input already consumed (USSD text history)
	// Conversation is the carrier's id of the session the citizen is in now
	// (a USSD session id); a new one on a stored session means the citizen
	// dialled again.
	Conversation string
	// CarrierSeq is the carrier's sequence number of the last hop applied,
	// for protocols that number hops; a repeat is a retry.
	CarrierSeq int
	Started    int64 // unix milliseconds
	Updated    int64 // unix milliseconds
	Ended      bool
}

// Frame is one flow on the call stack, pinned to the version it started on.
type Frame struct {
	Flow    string
	Version int
	Step    string
	Return  string // step of the parent frame to continue at; "" ends the session
}

// Mark is one entry of the back stack: a step that waited for input, and the
// depth of the call stack when it did.
type Mark struct {
	Depth int
	Step  string
}

// Current returns the running frame, or nil when the session has none.
func (s *State) Current() *Frame {
	if len(s.Frames) == 0 {
		return nil
	}
	return &s.Frames[len(s.Frames)-1]
}
