package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/diag"
	"github.com/ventanilla-gob/ventanilla/internal/audit"
)

const auditUsage = `Usage: ventanilla audit [--audit-dir DIR] [--institution ID] [--from DAY] [--to DAY] [filters]

Prints the records of the access audit trail that the filters select, as
JSON Lines in the trail's own format, oldest first: what an institution's
team is given of its trámites (--institution), for a period (--from is
included, --to is not; a day like 2026-11-23 or a time like
2026-11-23T14:00:00Z, UTC). A summary goes to standard error.

Exit status: 0 with the records printed (none is not an error when the
institution has records elsewhere in the trail), 1 when an institution or
a kind matches nothing the trail holds (with the names it does hold), 2 on
bad flags.

Flags:
`

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flagSet("audit", stderr, &c)
	var f audit.Filter
	var from, to string
	fs.StringVar(&f.Institution, "institution", "", "only this institution's records (its package id)")
	fs.StringVar(&from, "from", "", "first day or time included (UTC)")
	fs.StringVar(&to, "to", "", "first day or time left out (UTC)")
	fs.StringVar(&f.Kind, "kind", "", `only "call" or "outcome" records`)
	fs.StringVar(&f.Flow, "flow", "", "only this flow's records")
	fs.StringVar(&f.Service, "service", "", "only the calls of this back-end service")
	fs.StringVar(&f.Outcome, "outcome", "", "only records with this outcome (ok, timeout, completed, abandoned…)")
	fs.StringVar(&f.Channel, "channel", "", "only this channel's records (ussd, sms, chat)")
	fs.Usage = func() {
		fmt.Fprint(stderr, auditUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, &c); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "audit: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if c.AuditDir == "" {
		fmt.Fprintln(stderr, "audit: no trail: give --audit-dir (or VENTANILLA_AUDIT_DIR), as serve has it")
		return 2
	}
	if f.Kind != "" && f.Kind != audit.KindCall && f.Kind != audit.KindOutcome {
		fmt.Fprintf(stderr, "audit: --kind %q: want call or outcome%s\n", f.Kind, diag.DidYouMean(f.Kind, []string{audit.KindCall, audit.KindOutcome}))
		return 2
	}
	var err error
	if f.From, err = parseWhen(from); err != nil {
		fmt.Fprintf(stderr, "audit: --from: %v\n", err)
		return 2
	}
	if f.To, err = parseWhen(to); err != nil {
		fmt.Fprintf(stderr, "audit: --to: %v\n", err)
		return 2
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fmt.Fprintln(stderr, "audit: --from must come before --to")
		return 2
	}
	w := bufio.NewWriter(stdout)
	st, err := audit.Read(ctx, c.AuditDir, f, func(r audit.Record) error {
		line, err := r.MarshalJSON()
		if err != nil {
			return err
		}
		w.Write(line)
		return w.WriteByte('\n')
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintf(stderr, "audit: %v\n", err)
		return 1
	}
	who := "all institutions"
	if f.Institution != "" {
		who = "institution " + f.Institution
	}
	fmt.Fprintf(stderr, "%d records of %s (%d read in %d day files", st.Matched, who, st.Records, st.Files)
	if st.Broken > 0 {
		fmt.Fprintf(stderr, "; %d lines were not records and were skipped", st.Broken)
	}
	fmt.Fprintln(stderr, ")")
	if f.Institution != "" && st.Matched == 0 && !slices.Contains(st.Institutions, f.Institution) {
		fmt.Fprintf(stderr, "audit: no record of institution %q in the period%s; institutions in it: %s\n",
			f.Institution, diag.DidYouMean(f.Institution, st.Institutions), strings.Join(st.Institutions, ", "))
		return 1
	}
	return 0
}

// parseWhen reads a day (its start, UTC) or an RFC 3339 time; "" is no
// bound.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a day (2026-11-23) nor a time (2026-11-23T14:00:00Z)", s)
	}
	return t.UTC(), nil
}
