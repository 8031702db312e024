package studio

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/internal/flowtest"
)

// save writes the current call as a golden transcript, once the studio
// has played it back the way `ventanilla flows test` will and seen it
// pass: a transcript that would fail is not written.
func (s *Studio) save(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name != "" && !strings.HasSuffix(name, ".yaml") {
		name += ".yaml"
	}
	msg, err := s.saveAs(r, name)
	s.mu.Lock()
	if err != nil {
		s.saved = "Not saved: " + err.Error()
	} else {
		s.saved = msg
	}
	s.mu.Unlock()
	if err == nil {
		s.cover(r.Context())
	}
	s.done(w, r)
}

func (s *Studio) saveAs(r *http.Request, name string) (string, error) {
	path, err := s.transcriptPath(name)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		return "", fmt.Errorf("%s exists already: choose another name", path)
	}
	s.mu.Lock()
	c := s.conv
	s.mu.Unlock()
	c.mu.Lock()
	t, err := c.transcript(strings.TrimSuffix(name, ".yaml"))
	c.mu.Unlock()
	if err != nil {
		return "", err
	}
	runner := &flowtest.Runner{Flows: s.registry(), Messages: s.opts.Messages, Root: s.opts.Root}
	_, fails, err := runner.Run(r.Context(), t)
	if err != nil {
		return "", fmt.Errorf("played back, the transcript fails: %w", err)
	}
	if len(fails) > 0 {
		return "", fmt.Errorf("played back, the transcript fails (a flow changed during the call?): %s", fails[0])
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Recorded in the studio; `ventanilla flows test` plays it back.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(fileOf(t)); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("%s exists already: choose another name", path)
		}
		return "", err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return fmt.Sprintf("Saved %s (%d hops); `ventanilla flows test %s` passes it.", path, len(t.Hops), path), nil
}

// transcriptFile is a transcript as a file holds it: what is left at its
// default is left out.
type transcriptFile struct {
	Name   string                `yaml:"name"`
	Start  string                `yaml:"start,omitempty"`
	Phone  string                `yaml:"phone,omitempty"`
	Locale string                `yaml:"locale,omitempty"`
	Limit  int                   `yaml:"limit,omitempty"`
	Mocks  map[string][]mockFile `yaml:"mocks,omitempty"`
	Hops   []flowtest.Hop        `yaml:"hops"`
}

type mockFile struct {
	Status  int    `yaml:"status,omitempty"`
	Outcome string `yaml:"outcome,omitempty"`
	Body    any    `yaml:"body,omitempty"`
}

func fileOf(t *flowtest.Transcript) transcriptFile {
	f := transcriptFile{Name: t.Name, Start: t.Start, Phone: t.Phone, Locale: t.Locale, Limit: t.Limit, Hops: t.Hops}
	for service, ms := range t.Mocks {
		if f.Mocks == nil {
			f.Mocks = map[string][]mockFile{}
		}
		for _, m := range ms {
			mf := mockFile{Status: m.Status, Outcome: m.Outcome, Body: m.Body}
			if mf.Status == 200 {
				mf.Status = 0
			}
			f.Mocks[service] = append(f.Mocks[service], mf)
		}
	}
	return f
}
