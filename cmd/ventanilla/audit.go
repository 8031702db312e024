package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/audit"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/privacy"
)

// pseudonymizer returns the keyed hash for citizens' identifiers in logs
// and the audit trail: from VENTANILLA_PSEUDONYM_KEY, or, outside
// production, a key of this run only (pseudonyms then change on restart).
func pseudonymizer(getenv func(string) (string, bool), log *slog.Logger) (*privacy.Pseudonymizer, error) {
	if key, ok := getenv("VENTANILLA_PSEUDONYM_KEY"); ok && key != "" {
		p, err := privacy.NewPseudonymizer([]byte(key))
		if err != nil {
			return nil, fmt.Errorf("VENTANILLA_PSEUDONYM_KEY: %w", err)
		}
		return p, nil
	}
	if log != nil {
		log.Warn("VENTANILLA_PSEUDONYM_KEY is not set: pseudonyms in logs and the audit trail hold for this run only")
	}
	return privacy.NewEphemeralPseudonymizer(), nil
}

// newLogger builds the structured logger; every record passes through the
// privacy handler, which pseudonymises or removes citizens' identifiers.
func newLogger(format string, w io.Writer, p *privacy.Pseudonymizer) *slog.Logger {
	var h slog.Handler = slog.NewTextHandler(w, nil)
	if format == "json" {
		h = slog.NewJSONHandler(w, nil)
	}
	return slog.New(privacy.NewHandler(h, p))
}

// recorder writes the access audit trail: one record per back-end call and
// per conversation outcome, with the citizen pseudonymised.
type recorder struct {
	sink  audit.Sink
	p     *privacy.Pseudonymizer
	now   func() time.Time
	log   *slog.Logger
	kinds map[string]bool
	// institution names the institution of a flow, from the packages
	// loaded (never from a request); nil or "" leaves it out.
	institution func(flow string) string
}

var (
	_ flows.Recorder   = (*recorder)(nil)
	_ gateway.Recorder = (*recorder)(nil)
)

func (r *recorder) write(rec audit.Record) {
	rec.Time = r.now()
	if r.institution != nil {
		rec.Institution = r.institution(rec.Flow)
	}
	if err := r.sink.Write(context.Background(), rec); err != nil && r.log != nil {
		r.log.Warn("audit record not written", "err", err)
	}
}

func (r *recorder) RecordCall(s *conversation.State, flow string, version int, step, service string, resp flows.Response) {
	r.write(audit.Record{
		Kind: audit.KindCall, Citizen: r.p.ID(privacy.KindPhone, s.Phone),
		Channel: s.Channel, Carrier: s.Carrier, Flow: flow, FlowVersion: version, Step: step,
		Service: service, Outcome: string(resp.Outcome), CorrelationID: resp.CorrelationID, Duration: resp.Elapsed,
	})
}

func (r *recorder) RecordOutcome(o gateway.Outcome) {
	r.write(audit.Record{
		Kind: audit.KindOutcome, Citizen: r.p.ID(privacy.KindPhone, o.Phone),
		Channel: o.Channel, Carrier: o.Carrier, Flow: o.Flow, FlowVersion: o.Version, Step: o.Step,
		Outcome: o.Outcome, Duration: o.Duration,
	})
}
