package studio

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// Saving a flow file reloads the flows: the conversation stays on its
// step and shows it as it reads now; a broken file shows its problem with
// file:line:col, linked for the editor, and the conversation goes on with
// the flows that loaded last.
func TestSavingAFlowFileReloadsWithoutRestartingTheConversation(t *testing.T) {
	f := newFixture(t, true)
	f.opts.Watch = []string{f.dir}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := f.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	f.send(t, PhoneUSSD, "")
	page := f.send(t, PhoneUSSD, "1")
	if got := ussdScreen(t, page); !strings.HasPrefix(got, "Ventanilla ciudadana") {
		t.Fatalf("the menu reads\n%s", got)
	}
	path := filepath.Join(f.dir, "inicio.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `es: "Ventanilla ciudadana"`, `es: "Servicios al ciudadano"`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the edited menu on the feature phone", func() bool {
		return strings.HasPrefix(ussdScreen(t, f.page(t)), "Servicios al ciudadano")
	})
	f.Studio.mu.Lock()
	dial, turns := f.conv.dial, len(f.conv.turns)
	f.Studio.mu.Unlock()
	if dial != 1 || turns != 2 {
		t.Errorf("after the reload: call %d with %d hops, want call 1 with its 2 hops", dial, turns)
	}
	if page := f.send(t, PhoneUSSD, "1"); !strings.HasPrefix(ussdScreen(t, page), "Turnos") {
		t.Errorf("the conversation does not go on:\n%s", ussdScreen(t, page))
	}

	broken := strings.Replace(edited, "    kind: menu\n", "    kind: menú\n", 1)
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	// The write may be seen in two events (the file emptied, then
	// written): wait for the problem of the file as written.
	testutil.WaitFor(t, "the lint problem on the page", func() bool {
		return strings.Contains(f.page(t), "menú")
	})
	page = f.page(t)
	if !strings.Contains(page, `href="vscode://file/`+strings.TrimPrefix(filepath.ToSlash(path), "/")+`:`) ||
		!strings.Contains(page, "inicio.yaml:") || !strings.Contains(page, "menú") {
		t.Errorf("the problem is not shown with its place:\n%s", page[strings.Index(page, `id="lint-h"`):strings.Index(page, `id="diagram-h"`)])
	}
	if got := ussdScreen(t, page); !strings.HasPrefix(got, "Turnos") {
		t.Errorf("a broken file changed the conversation:\n%s", got)
	}

	// A file that is not YAML shows its mistake where it is written, as
	// lint does: the tab, in words, linked at its line and column.
	tabbed := strings.Replace(edited, "    kind: menu\n", "\tkind: menu\n", 1)
	tab := strings.Index(tabbed, "\t")
	line, col := strings.Count(tabbed[:tab], "\n")+1, tab-strings.LastIndex(tabbed[:tab], "\n")
	if err := os.WriteFile(path, []byte(tabbed), 0o644); err != nil {
		t.Fatal(err)
	}
	where := fmt.Sprintf("inicio.yaml:%d:%d", line, col)
	testutil.WaitFor(t, "the syntax error on the page at "+where, func() bool {
		page := f.page(t)
		return strings.Contains(page, where+`">`) && strings.Contains(page, "tabs cannot indent YAML; use spaces")
	})
	if got := ussdScreen(t, f.page(t)); !strings.HasPrefix(got, "Turnos") {
		t.Errorf("a file that is not YAML changed the conversation:\n%s", got)
	}
}

func (f *fixture) page(t *testing.T) string {
	t.Helper()
	resp, err := f.srv.Client().Get(f.srv.URL + "/panels")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// A reload while the conversation is in a flow the national menu went to
// keeps the conversation: the step that flow returns to is the menu's,
// and is looked for in the menu, not in the flow that returns to it. When
// the menu loses that step, the conversation starts over.
func TestReloadKeepsAConversationInAFlowTheMenuWentTo(t *testing.T) {
	f := newFixture(t, true)
	turnos := func() {
		t.Helper()
		f.send(t, PhoneUSSD, "")
		f.send(t, PhoneUSSD, "1")
		if page := f.send(t, PhoneUSSD, "1"); !strings.HasPrefix(ussdScreen(t, page), "Turnos") {
			t.Fatalf("the menu's first entry reads\n%s", ussdScreen(t, page))
		}
	}
	state := func() (notice string, dial, turns int) {
		f.Studio.mu.Lock()
		defer f.Studio.mu.Unlock()
		return f.conv.notice, f.conv.dial, len(f.conv.turns)
	}
	turnos()
	f.Reload(context.Background())
	if notice, dial, turns := state(); notice != "" || dial != 1 || turns != 3 {
		t.Errorf("after the reload: notice %q, call %d with %d hops; want no notice, call 1 with its 3 hops", notice, dial, turns)
	}
	if got := ussdScreen(t, f.page(t)); !strings.HasPrefix(got, "Turnos") {
		t.Errorf("the reload moved the conversation:\n%s", got)
	}

	// The menu's step that goes to turnos, and that turnos returns to,
	// renamed: the flows load, and the conversation has nowhere to return.
	path := filepath.Join(f.dir, "inicio.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "go-ventanilla-turnos") {
		t.Fatalf("the menu has no step go-ventanilla-turnos:\n%s", data)
	}
	renamed := strings.ReplaceAll(string(data), "go-ventanilla-turnos", "go-turnos")
	if err := os.WriteFile(path, []byte(renamed), 0o644); err != nil {
		t.Fatal(err)
	}
	f.Reload(context.Background())
	if notice, dial, _ := state(); notice != "restarted" || dial != 0 {
		t.Errorf("after the menu lost the step turnos returns to: notice %q, call %d; want the conversation restarted", notice, dial)
	}
}
