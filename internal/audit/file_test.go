package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/audit"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

func newFileSink(t *testing.T, dir string, opts audit.FileOptions) *audit.FileSink {
	t.Helper()
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := audit.NewFileSink(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readTrail returns the records in dir's file of day, failing on any line
// that is not a whole record.
func readTrail(t *testing.T, dir, day string) []audit.Record {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "audit-"+day+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []audit.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d of %s: %v: %q", len(out)+1, day, err, sc.Text())
		}
		out = append(out, r)
	}
	return out
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func outcome(flow string) audit.Record {
	return audit.Record{Kind: audit.KindOutcome, Citizen: "c_3f9a1c2e7b5d4a10", Channel: "ussd", Flow: flow, FlowVersion: 1, Outcome: "completed"}
}

func TestFileSinkOneFilePerUTCDay(t *testing.T) {
	dir := t.TempDir()
	clk := testutil.NewClock(time.Date(2026, 11, 23, 23, 59, 59, 0, time.UTC))
	s := newFileSink(t, dir, audit.FileOptions{Now: clk.Now})
	ctx := context.Background()

	if err := s.Write(ctx, outcome("a")); err != nil {
		t.Fatal(err)
	}
	testutil.SetClock(clk, time.Date(2026, 11, 24, 0, 0, 1, 0, time.UTC))
	if err := s.Write(ctx, outcome("b")); err != nil {
		t.Fatal(err)
	}
	// 20:00 in Guayaquil is already the 25th in UTC.
	testutil.SetClock(clk, time.Date(2026, 11, 24, 20, 0, 0, 0, guayaquil))
	if err := s.Write(ctx, outcome("c")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if got, want := files(t, dir), []string{"audit-2026-11-23.jsonl", "audit-2026-11-24.jsonl", "audit-2026-11-25.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	for d, flow := range map[string]string{"2026-11-23": "a", "2026-11-24": "b", "2026-11-25": "c"} {
		recs := readTrail(t, dir, d)
		if len(recs) != 1 || recs[0].Flow != flow {
			t.Errorf("%s holds %+v, want flow %q only", d, recs, flow)
		}
	}
	if recs := readTrail(t, dir, "2026-11-23"); !recs[0].Time.Equal(time.Date(2026, 11, 23, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("record stamped %v, want the sink's clock", recs[0].Time)
	}
}

func TestFileSinkRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	dayAgo := func(n int) string { return now.AddDate(0, 0, -n).Format(time.DateOnly) }
	old := map[string]string{
		"audit-" + dayAgo(400) + ".jsonl": "{}\n",
		"audit-" + dayAgo(92) + ".jsonl":  "{}\n",
		"audit-" + dayAgo(91) + ".jsonl":  "{}\n", // whole day older than 90 days
	}
	kept := map[string]string{
		"audit-" + dayAgo(90) + ".jsonl": `{"kind":"outcome"}` + "\n", // its last hours are not
		"audit-" + dayAgo(1) + ".jsonl":  `{"kind":"call"}` + "\n",
		"audit-" + dayAgo(0) + ".jsonl":  `{"kind":"outcome"}` + "\n",
		"audit-2026-13-45.jsonl":         "not a date\n",
		"audit-" + dayAgo(400) + ".json": "another extension\n",
		"README":                         "not the trail's\n",
	}
	for name, body := range mergeMaps(old, kept) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clk := testutil.NewClock(now)
	s := newFileSink(t, dir, audit.FileOptions{Now: clk.Now, Retention: 90 * 24 * time.Hour})

	for name := range old {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: still there after open (%v)", name, err)
		}
	}
	for name, body := range kept {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != body {
			t.Errorf("%s: %q, %v; want it untouched", name, b, err)
		}
	}

	// A day later the next file goes, at the first write of the day.
	testutil.SetClock(clk, now.AddDate(0, 0, 1))
	if err := s.Write(context.Background(), outcome("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "audit-"+dayAgo(90)+".jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("day %s: still there a day later (%v)", dayAgo(90), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "audit-"+dayAgo(1)+".jsonl")); err != nil {
		t.Errorf("day %s: %v", dayAgo(1), err)
	}
}

func TestFileSinkRetentionWithoutWrites(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	name := filepath.Join(dir, "audit-"+now.AddDate(0, 0, -1).Format(time.DateOnly)+".jsonl")
	if err := os.WriteFile(name, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := testutil.NewClock(now)
	newFileSink(t, dir, audit.FileOptions{Now: clk.Now, Retention: 24 * time.Hour, FlushInterval: 5 * time.Millisecond})
	if _, err := os.Stat(name); err != nil {
		t.Fatalf("deleted too early: %v", err)
	}
	testutil.SetClock(clk, now.AddDate(0, 0, 1)) // midnight passes on a quiet gateway
	testutil.WaitFor(t, "the janitor to run when the day changed", func() bool {
		_, err := os.Stat(name)
		return errors.Is(err, os.ErrNotExist)
	})
}

func mergeMaps(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

func TestFileSinkAppendsWithoutTouchingExistingLines(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(dir, "audit-2026-11-23.jsonl")
	before, _ := json.Marshal(outcome("earlier"))
	// The last line was cut short by a crash.
	existing := append(append(before, '\n'), `{"time":"2026-11-23T11:00:00Z","kind":"out`...)
	if err := os.WriteFile(path, existing, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newFileSink(t, dir, audit.FileOptions{Now: func() time.Time { return now }})
	if err := s.Write(context.Background(), outcome("later")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, existing) {
		t.Fatalf("existing content changed:\n%s", b)
	}
	lines := bytes.Split(bytes.TrimSuffix(b[len(existing):], []byte("\n")), []byte("\n"))
	if len(lines) != 2 || len(lines[0]) != 0 {
		t.Fatalf("want the cut line ended, then one record; got %q", b[len(existing):])
	}
	var r audit.Record
	if err := json.Unmarshal(lines[1], &r); err != nil || r.Flow != "later" {
		t.Errorf("appended line %q: %v", lines[1], err)
	}
}

func TestFileSinkConcurrentWritersWriteWholeLines(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := newFileSink(t, dir, audit.FileOptions{Now: func() time.Time { return now }})
	const writers, each = 16, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := outcome("turnos")
				r.CorrelationID = fmt.Sprintf("w%d-%d", w, i)
				r.Step = "a-step-name-long-enough-to-make-lines-cross-buffer-boundaries-" + fmt.Sprint(i)
				if err := s.Write(context.Background(), r); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readTrail(t, dir, "2026-11-23")
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.CorrelationID] {
			t.Errorf("%s written twice", r.CorrelationID)
		}
		seen[r.CorrelationID] = true
	}
	if len(recs) != writers*each || len(seen) != writers*each {
		t.Errorf("%d lines, %d distinct; want %d", len(recs), len(seen), writers*each)
	}
}

func TestFileSinkPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	s := newFileSink(t, dir, audit.FileOptions{})
	if err := s.Write(context.Background(), outcome("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := di.Mode().Perm(); m != 0o700 {
		t.Errorf("directory mode %v, want 0700", m)
	}
	names := files(t, dir)
	if len(names) != 1 {
		t.Fatalf("files = %v", names)
	}
	fi, err := os.Stat(filepath.Join(dir, names[0]))
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("file mode %v, want 0600", m)
	}
}

// size reports the size of the single trail file in dir.
func size(t *testing.T, dir string) int64 {
	t.Helper()
	names := files(t, dir)
	if len(names) != 1 {
		t.Fatalf("files = %v", names)
	}
	fi, err := os.Stat(filepath.Join(dir, names[0]))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// In a bubble of testing/synctest the sink's ticker runs on a fake clock
// that moves only when every goroutine of the test waits: the second
// passes at once, and synctest.Wait lets the flush finish before the
// file is looked at.
func TestFileSinkFlushesWithinASecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := newFileSink(t, dir, audit.FileOptions{FlushInterval: time.Hour}) // capped to a second
		if err := s.Write(context.Background(), outcome("x")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if size(t, dir) != 0 {
			t.Fatal("flushed at once: the write should stay buffered until the ticker fires")
		}
		time.Sleep(time.Second) // on the bubble's clock
		synctest.Wait()
		if size(t, dir) == 0 {
			t.Fatal("record not in the file a second after the write")
		}
	})
}

func TestFileSinkSyncWritesBeforeReturning(t *testing.T) {
	dir := t.TempDir()
	s := newFileSink(t, dir, audit.FileOptions{Sync: true})
	for i := 1; i <= 3; i++ {
		if err := s.Write(context.Background(), outcome("x")); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(outcome("x"))
		if got := size(t, dir); got < int64(i*len(b)) {
			t.Fatalf("after %d writes the file has %d bytes", i, got)
		}
	}
}

func TestFileSinkRefusesInvalidAndClosed(t *testing.T) {
	dir := t.TempDir()
	s := newFileSink(t, dir, audit.FileOptions{})
	bad := outcome("x")
	bad.Citizen = "+593991234567"
	if err := s.Write(context.Background(), bad); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("raw phone as citizen: err = %v, want ErrInvalid", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Write(context.Background(), outcome("x")); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("after Close: err = %v, want ErrClosed", err)
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("files = %v: an invalid record opened a file", names)
	}
}

func BenchmarkFileSinkWrite(b *testing.B) {
	s, err := audit.NewFileSink(b.TempDir(), audit.FileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := sample()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
