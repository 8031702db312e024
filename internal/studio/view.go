package studio

import (
	"fmt"
	"html/template"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ventanilla-gob/ventanilla/channels/chat"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

// view is what the page shows.
type view struct {
	CSRF        string
	Version     uint64
	Settings    Settings
	Langs       []choice
	Flows       []string
	Transcripts []string
	Services    []choice
	Picks       []string
	USSD        ussdView
	SMS         []bubble
	Chat        []bubble
	Buttons     [][]chat.Button // the keyboard of the chat's last message
	Open        bool
	Where       string
	Notice      string
	Problems    []problemView
	Errors      int
	Warnings    int
	LoadErr     string
	Diagram     diagram
	CoverErr    string
	Saved       string
	Transcript  string // the directory "save" writes to
}

type choice struct {
	Value, Label string
}

type ussdView struct {
	Text     string
	Count    int
	Limit    int
	Over     bool
	End      bool
	HopMS    string
	BudgetMS int64
}

type problemView struct {
	Where    string
	Link     template.URL
	Severity string
	Text     string
}

func (s *Studio) view() view {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conv
	c.mu.Lock()
	defer c.mu.Unlock()
	v := view{
		CSRF: s.csrf, Version: s.version, Settings: c.settings,
		Flows: s.registry().IDs(), Transcripts: s.transcripts(), Picks: Picks,
		Open: c.open, Where: c.where(), Notice: c.notice, LoadErr: s.loadErr,
		CoverErr: s.coverErr, Saved: s.saved, Transcript: s.opts.Transcripts,
		// Copies: a reload rewrites the last message in place while the page renders.
		SMS: slices.Clone(c.smsThread), Chat: slices.Clone(c.chatMsgs),
		USSD: ussdView{
			Text: c.ussdText, Count: c.ussdCount(), Limit: c.limit, Over: c.ussdCount() > c.limit,
			End: c.ussdEnd, BudgetMS: s.opts.Budget.Milliseconds(),
		},
	}
	if c.dial > 0 {
		v.USSD.HopMS = fmt.Sprintf("%.1f", float64(c.hopTime.Microseconds())/1000)
	}
	if c.open && len(c.chatMsgs) > 0 {
		v.Buttons = c.chatMsgs[len(c.chatMsgs)-1].Buttons
	}
	for _, l := range s.opts.Messages.Locales() {
		v.Langs = append(v.Langs, choice{Value: l, Label: s.opts.Messages.Text(l, i18n.LanguageName)})
	}
	for _, name := range s.opts.ServiceNames {
		p := c.settings.Picks[name]
		if p == "" {
			p = PickBackend
		}
		v.Services = append(v.Services, choice{Value: name, Label: p})
	}
	for _, p := range s.problems {
		v.Problems = append(v.Problems, problemView{
			Where:    fmt.Sprintf("%s:%d:%d", p.File, p.Pos.Line, p.Pos.Col),
			Link:     fileLink(p.File, p.Pos.Line, p.Pos.Col),
			Severity: p.Severity.String(),
			Text:     strings.TrimSpace(fmt.Sprintf("%s: %s [%s]", orFile(p.Path), p.Message, p.Code)),
		})
	}
	v.Errors, v.Warnings = s.problems.Count()
	flow := c.flow
	if flow == "" || s.registry().Latest(flow) == nil {
		flow = c.settings.Start
	}
	if flow == "" {
		flow = s.opts.Root
	}
	v.Diagram = s.diagram(flow, c.step, c.flow == flow)
	return v
}

func orFile(path string) string {
	if path == "" {
		return "(file)"
	}
	return path
}

var funcs = template.FuncMap{
	"phoneName": func(p string) string {
		switch p {
		case PhoneUSSD:
			return "feature phone"
		case PhoneSMS:
			return "SMS"
		case PhoneChat:
			return "chat"
		}
		return p
	},
	"base":  filepath.Base,
	"lines": func(s string) []string { return strings.Split(s, "\n") },
}
