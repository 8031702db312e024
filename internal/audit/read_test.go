package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/audit"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// A trail of three days, written by the sink, read back per institution
// and period; lines that are not records are counted and skipped.
func TestReadPerInstitution(t *testing.T) {
	dir := t.TempDir()
	day1 := time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC)
	clock := testutil.NewClock(day1)
	sink := newFileSink(t, dir, audit.FileOptions{Now: clock.Now, Sync: true})
	write := func(inst, flow, kind, outcome string) {
		t.Helper()
		r := audit.Record{Kind: kind, Institution: inst, Citizen: "c_3f9a1c2e7b5d4a10", Channel: "ussd", Flow: flow, FlowVersion: 1, Outcome: outcome}
		if kind == audit.KindCall {
			r.Service = inst + ".status"
		}
		if err := sink.Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	write("transito", "transito-multas", audit.KindCall, "ok")
	write("registro", "registro-cedula", audit.KindOutcome, "completed")
	clock.Advance(time.Hour) // 22 Nov, 00:30
	write("transito", "transito-multas", audit.KindOutcome, "completed")
	write("transito", "transito-multas", audit.KindCall, "timeout")
	clock.Advance(24 * time.Hour) // 23 Nov
	write("registro", "registro-cedula", audit.KindCall, "ok")
	write("transito", "transito-multas", audit.KindOutcome, "abandoned")
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash cut a line short; someone left a note in the folder.
	f, err := os.OpenFile(filepath.Join(dir, "audit-2026-11-22.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-11-22T01:00:00Z","kind":"outc` + "\n" + strings.Repeat("x", audit.MaxLine+10) + "\n")
	f.Close()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a trail"), 0o600)

	read := func(f audit.Filter) ([]string, audit.ReadStats) {
		t.Helper()
		var got []string
		st, err := audit.Read(context.Background(), dir, f, func(r audit.Record) error {
			got = append(got, r.Time.Format("02T15")+" "+r.Institution+" "+r.Kind+" "+r.Outcome)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, st
	}
	got, st := read(audit.Filter{Institution: "transito"})
	want := []string{"21T23 transito call ok", "22T00 transito outcome completed", "22T00 transito call timeout", "23T00 transito outcome abandoned"}
	if !slices.Equal(got, want) {
		t.Errorf("transito's records:\n got %q\nwant %q", got, want)
	}
	if st.Files != 3 || st.Records != 6 || st.Matched != 4 || st.Broken != 2 || !slices.Equal(st.Institutions, []string{"registro", "transito"}) {
		t.Errorf("stats: %+v", st)
	}

	got, st = read(audit.Filter{Institution: "transito", Kind: audit.KindCall, From: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)})
	if !slices.Equal(got, []string{"22T00 transito call timeout"}) || st.Files != 1 {
		t.Errorf("transito's calls of 22 Nov: %q (%d files read)", got, st.Files)
	}
	if got, _ := read(audit.Filter{Institution: "registro", Outcome: "completed"}); !slices.Equal(got, []string{"21T23 registro outcome completed"}) {
		t.Errorf("registro's completions: %q", got)
	}
	if got, st := read(audit.Filter{Institution: "transit"}); len(got) != 0 || st.Matched != 0 {
		t.Errorf("a misspelt institution: %q", got)
	}
}
