package audit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// FileOptions configure a FileSink.
type FileOptions struct {
	// Retention is how long records are kept (default 90 days). A day's
	// file is deleted once the whole day is older than Retention, so a
	// record is kept at least Retention and at most one day more.
	Retention time.Duration
	// Now is the clock (default time.Now). Files are named by its UTC day.
	Now func() time.Time
	// Sync makes every Write flush and fsync before it returns. See
	// FileSink for what it costs and buys.
	Sync bool
	// FlushInterval is how often buffered records are written to the
	// file (default, and at most, one second).
	FlushInterval time.Duration
	// Log receives the errors no caller is waiting for: a failed
	// background flush, a file the janitor could not delete (default
	// slog.Default()).
	Log *slog.Logger
}

// DefaultRetention is how long a FileSink keeps records unless told.
const DefaultRetention = 90 * 24 * time.Hour

// FileSink appends records as JSON Lines to one file per UTC day,
// "audit-2026-11-23.jsonl" in its directory, created 0600 (the directory
// 0700) and opened append-only: a line, once written, is never changed,
// and whole files are deleted when past the retention — at open, then
// once a day. A line cut short by a crash is ended with a newline before
// anything is appended to it, so every later line stays whole.
//
// Durability: writes are serialised and buffered in memory, and the
// buffer goes to the file at least every FlushInterval (one second), when
// it fills (64 KiB), at the change of day and on Close. A process that
// crashes loses at most the last second of records; a machine that loses
// power can also lose what the operating system had not yet put on disk.
// With Sync every Write flushes and fsyncs: nothing acknowledged is lost,
// at the price of a disk flush per record (milliseconds) — put an Async in
// front so that hops never wait for it.
type FileSink struct {
	dir  string
	opts FileOptions

	mu      sync.Mutex
	day     string // UTC day of the open file; "" when none is open
	f       *os.File
	w       *bufio.Writer
	swept   string // UTC day of the janitor's last run
	failing bool   // the last write failed (logged once, not every time)
	closed  bool

	stop chan struct{}
	done chan struct{}
}

var _ Sink = (*FileSink)(nil)

// NewFileSink opens the trail kept in dir, creating dir if needed, and
// deletes the files past retention. It fails if dir cannot be created or
// read or an old file cannot be deleted: a trail kept longer than
// promised is a fault to fix, not to log.
func NewFileSink(dir string, opts FileOptions) (*FileSink, error) {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FlushInterval <= 0 || opts.FlushInterval > time.Second {
		opts.FlushInterval = time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	s := &FileSink{dir: dir, opts: opts, stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.sweep(day(opts.Now())); err != nil {
		return nil, err
	}
	go s.background()
	return s, nil
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func fileName(day string) string { return "audit-" + day + ".jsonl" }

// Write appends r to the file of the current UTC day. ctx is not used: a
// record that reached the sink is written even if its hop has ended.
func (s *FileSink) Write(_ context.Context, r Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	now := s.opts.Now()
	if r.Time.IsZero() {
		r.Time = now
	}
	today := day(now)
	if today != s.day {
		if err := s.open(today); err != nil {
			return s.failed(today, err)
		}
	}
	line, err := r.MarshalJSON()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	line = append(line, '\n')
	_, err = s.w.Write(line)
	if err == nil && s.opts.Sync {
		if err = s.w.Flush(); err == nil {
			err = s.f.Sync()
		}
	}
	if err != nil {
		return s.failed(today, err)
	}
	s.failing = false
	return nil
}

// failed logs the first of a series of write errors and closes the file,
// so that the next Write opens it afresh.
func (s *FileSink) failed(day string, err error) error {
	err = fmt.Errorf("audit: writing %s: %w", fileName(day), err)
	if !s.failing {
		s.opts.Log.Error("audit trail not written", "err", err)
		s.failing = true
	}
	s.closeFile()
	return err
}

// open switches to the file of day, running the janitor on a new day.
// Called with mu held.
func (s *FileSink) open(day string) error {
	if err := s.closeFile(); err != nil {
		s.opts.Log.Error("audit trail: closing the previous file", "err", err)
	}
	if s.swept != day {
		if err := s.sweep(day); err != nil {
			s.opts.Log.Error("audit trail: retention", "err", err)
		}
	}
	path := filepath.Join(s.dir, fileName(day))
	ended, err := endsLine(path)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	s.day, s.f = day, f
	s.w = bufio.NewWriterSize(f, 64<<10)
	if !ended {
		// A crash cut the last line short: end it, so that it is the
		// only broken line.
		s.w.WriteByte('\n')
	}
	return nil
}

// endsLine reports whether the file at path is missing, empty or ends
// with a newline.
func endsLine(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return true, err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil && err != io.EOF {
		return false, err
	}
	return last[0] == '\n', nil
}

// closeFile flushes, syncs and closes the open file, if any. Called with
// mu held.
func (s *FileSink) closeFile() error {
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	if e := s.f.Sync(); err == nil {
		err = e
	}
	if e := s.f.Close(); err == nil {
		err = e
	}
	s.day, s.f, s.w = "", nil, nil
	return err
}

// sweep deletes the files whose whole day is older than the retention,
// as of today. It touches nothing but files named like the trail's.
// Called with mu held, or before the sink is shared.
func (s *FileSink) sweep(today string) error {
	now, err := time.Parse(time.DateOnly, today)
	if err != nil {
		return err
	}
	// Judged from the start of today, so that a run at any hour deletes
	// the same files.
	cutoff := now.Add(-s.opts.Retention)
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	var errs []error
	for _, e := range entries {
		d, ok := strings.CutPrefix(e.Name(), "audit-")
		d, ok2 := strings.CutSuffix(d, ".jsonl")
		if !ok || !ok2 || !e.Type().IsRegular() {
			continue
		}
		t, err := time.Parse(time.DateOnly, d)
		if err != nil || d == s.day || t.Add(24*time.Hour).After(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("audit: retention: %w", err))
		}
	}
	if len(errs) == 0 {
		s.swept = today
	}
	return errors.Join(errs...)
}

// background flushes the buffer every FlushInterval and runs the janitor
// when the day changes, writes or not.
func (s *FileSink) background() {
	defer close(s.done)
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		if s.w != nil && s.w.Buffered() > 0 {
			if err := s.w.Flush(); err != nil {
				_ = s.failed(s.day, err)
			}
		}
		if today := day(s.opts.Now()); today != s.swept {
			if err := s.sweep(today); err != nil {
				s.opts.Log.Error("audit trail: retention", "err", err)
			}
		}
		s.mu.Unlock()
	}
}

// Close writes what is buffered, fsyncs and closes the file. Later calls
// do nothing.
func (s *FileSink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.closeFile(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
