package gateway

import (
	"time"

	"github.com/ventanilla-gob/ventanilla/flows"

	"github.com/ventanilla-gob/ventanilla/conversation"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Observer hears what hops do, for metrics. Calls happen on the hop, so
// they must be cheap and must not block.
type Observer interface {
	// Hop reports one hop: its carrier, the flow it ended in ("" before
	// any), its outcome and how long it took. Outcomes: "continue",
	// "end", "retry" (an answer not accepted), "resume" (the resume
	// offer), "closed" (the carrier closed the session), "failure" (the
	// flow could not go on), "budget" (the hop outlasted its budget),
	// "unavailable" (the session store failed), "repeat" (the carrier
	// repeated the request that ended a conversation: answered again,
	// nothing run).
	Hop(carrier, flow, outcome string, d time.Duration)
	// Abandoned reports a conversation left mid-flow at a step.
	Abandoned(flow, step string)
}

// Counter hears, for the published indicators, a conversation left
// mid-flow: its channel, carrier and language and where it stopped —
// never who the citizen was. Calls happen on the hop, so they must be
// cheap and must not block.
type Counter interface {
	Abandoned(channel, carrier, locale, flow string, version int, step string)
}

// Recorder receives one record per conversation outcome (completed,
// failed, out of budget, closed by the carrier, abandoned), for the access
// audit trail. It must not block the hop.
type Recorder interface {
	RecordOutcome(o Outcome)
}

// Outcome is how a conversation ended, with no personal data but the
// number the recorder pseudonymises.
type Outcome struct {
	Phone, Channel, Carrier string
	Flow                    string
	Version                 int
	Step                    string
	Outcome                 string
	Duration                time.Duration // since the conversation started
}

// record writes the audit record of a hop that ended a conversation.
func (g *Gateway) record(in carrier.Inbound, info *hopInfo, r carrier.Reply, err error) {
	if g.Recorder == nil {
		return
	}
	info.mu.Lock()
	o, outcome := info.record, info.outcome
	info.mu.Unlock()
	switch {
	case outcome == "closed" || outcome == "repeat":
		return // recorded as abandoned when it was mid-flow, or ended before
	case outcome == "failure" || outcome == "budget":
		o.Outcome = outcome
	case err != nil:
		o.Outcome = "unavailable"
	case r.End:
		o.Outcome = "completed"
	default:
		return
	}
	o.Phone, o.Channel, o.Carrier = in.Phone, in.Channel, in.Carrier
	g.Recorder.RecordOutcome(o)
}

// note keeps where a conversation stands, for the audit record.
func (g *Gateway) note(info *hopInfo, s *conversation.State) {
	if g.Recorder == nil {
		return
	}
	info.set(func(i *hopInfo) {
		if f := s.Current(); f != nil {
			i.record.Flow, i.record.Version, i.record.Step = f.Flow, f.Version, f.Step
		}
		if s.Started > 0 {
			i.record.Duration = g.now().Sub(time.UnixMilli(s.Started))
		}
	})
}

// abandoned reports a conversation left mid-flow, once: a conversation
// the carrier closed is counted then and kept for a resume, and starting
// over later leaves it where it already was counted. One resumed and
// left again counts at the step it was first left.
func (g *Gateway) abandoned(s *conversation.State) {
	if s.Ended || s.Vars[abandonedVar] == true || flows.Completed(s) {
		// A conversation left at the question after its trámite (a
		// rating) has not abandoned the trámite.
		return
	}
	if s.Vars == nil {
		s.Vars = map[string]any{}
	}
	s.Vars[abandonedVar] = true
	if g.Recorder != nil {
		o := Outcome{Phone: s.Phone, Channel: s.Channel, Carrier: s.Carrier, Outcome: "abandoned"}
		if f := s.Current(); f != nil {
			o.Flow, o.Version, o.Step = f.Flow, f.Version, f.Step
		}
		if s.Started > 0 {
			o.Duration = g.now().Sub(time.UnixMilli(s.Started))
		}
		g.Recorder.RecordOutcome(o)
	}
	if f := s.Current(); f != nil && g.Counter != nil {
		g.Counter.Abandoned(s.Channel, s.Carrier, s.Locale, f.Flow, f.Version, f.Step)
	}
	if g.Observer == nil {
		return
	}
	if f := s.Current(); f != nil {
		g.Observer.Abandoned(f.Flow, f.Step)
	}
}
