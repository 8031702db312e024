package studio

import (
	"context"
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
