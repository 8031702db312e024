package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Filter selects records of the trail; a zero field selects every value.
type Filter struct {
	Institution string
	From, To    time.Time // From ≤ Time < To
	Kind        string
	Channel     string
	Flow        string
	Service     string
	Outcome     string
}

// Match reports whether f selects r.
func (f Filter) Match(r Record) bool {
	eq := func(want, got string) bool { return want == "" || want == got }
	return eq(f.Institution, r.Institution) && eq(f.Kind, r.Kind) && eq(f.Channel, r.Channel) &&
		eq(f.Flow, r.Flow) && eq(f.Service, r.Service) && eq(f.Outcome, r.Outcome) &&
		(f.From.IsZero() || !r.Time.Before(f.From)) && (f.To.IsZero() || r.Time.Before(f.To))
}

// MaxLine is the longest line Read takes for a record; a record is a few
// hundred bytes, so a longer line is not one.
const MaxLine = 64 << 10

// ReadStats says what Read went through.
type ReadStats struct {
	Files   int // day files read
	Records int // whole records in them
	Matched int // records the filter selected
	// Broken counts the lines that are not a whole record: the last line
	// of a file cut short by a crash, or what else was put in the folder.
	Broken int
	// Institutions are those the records read name, sorted, for a filter
	// that matched nothing to say which there are.
	Institutions []string
}

// Read streams to fn, oldest first, the records of the trail kept in dir
// that f selects, reading only the day files f's period covers, one line
// at a time (memory stays bounded whatever the trail's size). It stops
// at the first error of fn or of ctx, and returns it.
func Read(ctx context.Context, dir string, f Filter, fn func(Record) error) (st ReadStats, err error) {
	days, err := dayFiles(dir, f)
	if err != nil {
		return st, err
	}
	seen := map[string]bool{}
	defer func() {
		for inst := range seen {
			st.Institutions = append(st.Institutions, inst)
		}
		slices.Sort(st.Institutions)
	}()
	for _, name := range days {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := readFile(ctx, filepath.Join(dir, name), f, fn, &st, seen); err != nil {
			return st, err
		}
		st.Files++
	}
	return st, nil
}

// dayFiles lists the trail's files of the days f's period covers, oldest
// first.
func dayFiles(dir string, f Filter) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var out []string
	for _, e := range entries {
		d, ok := strings.CutPrefix(e.Name(), "audit-")
		d, ok2 := strings.CutSuffix(d, ".jsonl")
		if !ok || !ok2 || !e.Type().IsRegular() {
			continue
		}
		start, err := time.Parse(time.DateOnly, d)
		if err != nil {
			continue
		}
		if !f.To.IsZero() && !start.Before(f.To) || !f.From.IsZero() && !start.Add(24*time.Hour).After(f.From) {
			continue
		}
		out = append(out, e.Name())
	}
	slices.Sort(out) // the names sort as their days
	return out, nil
}

func readFile(ctx context.Context, path string, f Filter, fn func(Record) error, st *ReadStats, seen map[string]bool) error {
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer file.Close()
	br := bufio.NewReaderSize(file, MaxLine)
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			st.Broken++
			if err := skipLine(br); err != nil {
				return err
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("audit: %s: %w", filepath.Base(path), err)
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			var r Record
			if json.Unmarshal(line, &r) != nil || r.Validate() != nil {
				st.Broken++
			} else {
				st.Records++
				if r.Institution != "" {
					seen[r.Institution] = true
				}
				if f.Match(r) {
					st.Matched++
					if err := fn(r); err != nil {
						return err
					}
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

// skipLine discards the rest of an over-long line.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}
