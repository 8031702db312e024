package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/privacy"
)

// Kinds of record.
const (
	// KindOutcome: a conversation ended (or a flow finished) with Outcome:
	// "completed", "abandoned", "failed", "budget"…
	KindOutcome = "outcome"
	// KindCall: a back-end Service was called on the citizen's behalf
	// with Outcome "ok", "not_found", "rejected", "error", "timeout" or
	// "unavailable", and CorrelationID tying it to the institution's logs.
	KindCall = "call"
)

// Record is one entry of the audit trail. It has no field for personal
// data on purpose: the citizen appears only as a pseudonym
// (privacy.Pseudonymizer.ID with privacy.KindPhone), and everything else
// names parts of the gateway, never what the citizen typed or what a
// back-end answered.
type Record struct {
	Time          time.Time     // when it happened; a sink sets it when zero
	Kind          string        // KindOutcome or KindCall
	Institution   string        // whose trámite: the flow's package, from configuration
	Citizen       string        // pseudonym, or "" when the channel gives no number
	Channel       string        // "ussd", "sms", "chat"
	Carrier       string        // "africastalking"
	Flow          string        // flow id
	FlowVersion   int           // the flow's version the conversation ran on
	Step          string        // step where it happened
	Service       string        // back-end service id, for KindCall
	Outcome       string        // how it ended
	CorrelationID string        // X-Road-Id or the gateway's own request id
	Duration      time.Duration // of the call, or of the conversation
}

// Sink stores records. Write must be safe for concurrent use; Close
// flushes what is pending and releases the sink, after which Write fails
// with ErrClosed.
type Sink interface {
	Write(ctx context.Context, r Record) error
	Close() error
}

var (
	// ErrInvalid: the record has an unknown kind or a citizen that is not
	// a pseudonym. It is never written.
	ErrInvalid = errors.New("audit: invalid record")
	// ErrClosed: the sink was closed.
	ErrClosed = errors.New("audit: sink closed")
	// ErrDropped: an Async sink's queue was full; the record is lost.
	ErrDropped = errors.New("audit: queue full, record dropped")
)

// Validate reports whether r may be written. A citizen must have the shape
// of a pseudonym, so that a phone number passed by mistake is refused
// rather than kept for months; the error never repeats the value.
func (r Record) Validate() error {
	if r.Kind != KindOutcome && r.Kind != KindCall {
		return fmt.Errorf(`%w: kind must be "outcome" or "call"`, ErrInvalid)
	}
	if r.Citizen != "" && !privacy.IsPseudonym(r.Citizen) {
		return fmt.Errorf("%w: citizen is not a pseudonym", ErrInvalid)
	}
	return nil
}

// jsonRecord is the format of a line: snake_case keys, the time in UTC
// with nanoseconds, the duration in (fractional) milliseconds so that
// tools can sum it, and empty fields left out.
type jsonRecord struct {
	Time          time.Time `json:"time"`
	Kind          string    `json:"kind"`
	Institution   string    `json:"institution,omitempty"`
	Citizen       string    `json:"citizen,omitempty"`
	Channel       string    `json:"channel,omitempty"`
	Carrier       string    `json:"carrier,omitempty"`
	Flow          string    `json:"flow,omitempty"`
	FlowVersion   int       `json:"flow_version,omitempty"`
	Step          string    `json:"step,omitempty"`
	Service       string    `json:"service,omitempty"`
	Outcome       string    `json:"outcome,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	DurationMS    float64   `json:"duration_ms,omitempty"`
}

// MarshalJSON writes r as one line of the trail (without the newline).
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonRecord{
		Time: r.Time.UTC(), Kind: r.Kind, Institution: r.Institution, Citizen: r.Citizen, Channel: r.Channel,
		Carrier: r.Carrier, Flow: r.Flow, FlowVersion: r.FlowVersion, Step: r.Step,
		Service: r.Service, Outcome: r.Outcome, CorrelationID: r.CorrelationID,
		DurationMS: float64(r.Duration) / float64(time.Millisecond),
	})
}

// UnmarshalJSON reads a line of the trail.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j jsonRecord
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Record{
		Time: j.Time, Kind: j.Kind, Institution: j.Institution, Citizen: j.Citizen, Channel: j.Channel,
		Carrier: j.Carrier, Flow: j.Flow, FlowVersion: j.FlowVersion, Step: j.Step,
		Service: j.Service, Outcome: j.Outcome, CorrelationID: j.CorrelationID,
		Duration: time.Duration(math.Round(j.DurationMS * float64(time.Millisecond))),
	}
	return nil
}
