package studio

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// Watch reloads the flows whenever a watched file is written, created,
// renamed or removed, until ctx ends. Directories are watched for the
// YAML files in them; editors that save by renaming a new file over the
// old one are seen too. It returns once the watches are in place.
func (s *Studio) Watch(ctx context.Context) error {
	if len(s.opts.Watch) == 0 {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	files := map[string]bool{}
	for _, p := range s.opts.Watch {
		st, err := os.Stat(p)
		if err != nil {
			w.Close()
			return err
		}
		dir := p
		if !st.IsDir() {
			dir = filepath.Dir(p)
			files[filepath.Clean(p)] = true
		}
		if err := w.Add(dir); err != nil {
			w.Close()
			return err
		}
	}
	go func() {
		defer w.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if !s.relevant(ev, files) {
					continue
				}
				s.opts.Log.Info("studio: a flow file changed; reloading", "file", ev.Name)
				s.Reload(ctx)
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				s.opts.Log.Warn("studio: watching the flow files", "err", err)
			}
		}
	}()
	return nil
}

// relevant reports whether ev touches a flow, the services file or a
// transcript: a YAML file, or a file named on its own.
func (s *Studio) relevant(ev fsnotify.Event, files map[string]bool) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	name := filepath.Clean(ev.Name)
	if files[name] {
		return true
	}
	base := filepath.Base(name)
	if strings.HasPrefix(base, ".") {
		return false // editors' swap and backup files
	}
	ext := filepath.Ext(base)
	return ext == ".yaml" || ext == ".yml"
}
