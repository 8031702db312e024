package institution

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

// Files a package folder may hold, besides anything else its team keeps
// there (a README, notes): only these are read.
const (
	FlowsDir       = "flows"          // flows/*.yaml
	ServicesFile   = "services.yaml"  // the services its flows call
	TemplatesFile  = "templates.yaml" // its notification templates
	MessagesFile   = "messages.yaml"  // its own texts for some system messages
	TranscriptsDir = "testdata/conversations"
)

// Bounds that keep a package folder from costing more than a sane one:
// a folder of MaxFiles+1 entries or a file over MaxFileSize is refused
// before anything is read.
const (
	MaxFiles    = 1000
	MaxFileSize = flows.MaxFileSize
	maxDepth    = 4
)

// ReadTimeout bounds reading one package.
const ReadTimeout = 10 * time.Second

// Package is one institution's folder as read.
type Package struct {
	Dir       string // where it was read from, as problems name it
	Manifest  *Manifest
	Flows     []flows.Source
	Services  *flows.Source // nil without a services file
	Templates *flows.Source // nil without a templates file
	Messages  *flows.Source // nil without a messages file
	// Overrides are the institution's texts for system messages, said
	// in its flows instead of the catalogue's; nil without any.
	Overrides   *i18n.Overrides
	Transcripts []string // paths of its golden transcripts (on disk only)

	// scanned is what composing reads from the files besides the manifest,
	// read once: a per-package reload composes the running packages
	// again, as they are, next to the one read anew.
	scanOnce sync.Once
	scanned  *scanned
}

// ID is the institution's id.
func (p *Package) ID() string { return p.Manifest.ID }

// ReadDir reads the package in dir.
func ReadDir(ctx context.Context, dir string) (*Package, flows.Problems, error) {
	return read(ctx, os.DirFS(dir), dir, func(name string) ([]byte, error) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := within(dir, p); err != nil {
			return nil, err
		}
		return flows.ReadFile(p)
	})
}

// within refuses a file that is a link to a place outside the package
// folder: a package publishes its own files, and a link to the gateway's
// secrets or another institution's folder would be read and quoted back
// in problems. Links within the folder are followed (a Kubernetes
// ConfigMap mounts its files as links into a hidden folder beside them),
// and the folder itself may be a link (to a release).
func within(dir, p string) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(root, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		name, _ := filepath.Rel(dir, p)
		return fmt.Errorf("%s links to %s, outside the package; a package's files are its own", filepath.ToSlash(name), target)
	}
	return nil
}

// ReadFS reads a package from a file system (the embedded catalogue);
// problems name its files under display.
func ReadFS(ctx context.Context, fsys fs.FS, display string) (*Package, flows.Problems, error) {
	return read(ctx, fsys, display, func(name string) ([]byte, error) { return fs.ReadFile(fsys, name) })
}

// IsPackage reports whether dir holds a manifest (or something by its
// name, which reading the package then refuses with what is wrong).
func IsPackage(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ManifestFile))
	return err == nil
}

// ReadAll reads the packages that dirs name: a directory holding a
// manifest is one package; any other directory holds one package per
// sub-directory with a manifest.
func ReadAll(ctx context.Context, dirs []string) ([]*Package, flows.Problems, error) {
	var out []*Package
	var all flows.Problems
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, all, fmt.Errorf("packages: %w", err)
		}
		if !st.IsDir() {
			return nil, all, fmt.Errorf("packages: %s is not a directory", dir)
		}
		list := []string{dir}
		if !IsPackage(dir) {
			list = nil
			subs, err := readDirBounded(os.DirFS(dir), ".", MaxFiles)
			if err != nil {
				return nil, all, fmt.Errorf("packages: %s: %w", dir, err)
			}
			for _, e := range subs {
				if sub := filepath.Join(dir, e.Name()); e.IsDir() && !hidden(e.Name()) && IsPackage(sub) {
					list = append(list, sub)
				}
			}
			if len(list) == 0 {
				return nil, all, fmt.Errorf("packages: %s holds no package (a folder with %s)", dir, ManifestFile)
			}
		}
		for _, d := range list {
			p, ps, err := ReadDir(ctx, d)
			all = append(all, ps...)
			if err != nil {
				return nil, all, err
			}
			if p != nil {
				out = append(out, p)
			}
		}
	}
	return out, all, nil
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// errTooMany is returned when a folder holds more entries than allowed.
var errTooMany = errors.New("too many files")

// readDirBounded lists one directory, refusing it past max entries without
// listing the rest.
func readDirBounded(fsys fs.FS, dir string, max int) ([]fs.DirEntry, error) {
	f, err := fsys.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	var out []fs.DirEntry
	for {
		batch, err := rd.ReadDir(128)
		out = append(out, batch...)
		if len(out) > max {
			return nil, fmt.Errorf("%w: more than %d entries; a package holds its flows, services and tests, not data", errTooMany, max)
		}
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

type file struct {
	name string // slash-separated, relative to the package
	size int64
}

// walk lists the package's files (hidden ones left out), refusing a
// package of more than MaxFiles files, deeper than maxDepth or with a file
// over MaxFileSize.
func walk(ctx context.Context, fsys fs.FS, display string) ([]file, error) {
	var out []file
	count := 0
	var visit func(dir string, depth int) error
	visit = func(dir string, depth int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if depth > maxDepth {
			return fmt.Errorf("%s: folders nested deeper than %d", path.Join(display, dir), maxDepth)
		}
		entries, err := readDirBounded(fsys, dir, MaxFiles-count)
		if errors.Is(err, errTooMany) {
			return fmt.Errorf("%s: more than %d files; a package holds its flows, services and tests, not data", display, MaxFiles)
		}
		if err != nil {
			return err
		}
		count += len(entries)
		for _, e := range entries {
			if hidden(e.Name()) {
				continue
			}
			name := path.Join(dir, e.Name())
			if e.IsDir() {
				if err := visit(name, depth+1); err != nil {
					return err
				}
				continue
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			if info.Mode().IsRegular() && info.Size() > MaxFileSize {
				return fmt.Errorf("%s: %d bytes; a file of a package may have at most %d", path.Join(display, name), info.Size(), MaxFileSize)
			}
			out = append(out, file{name: name, size: info.Size()})
		}
		return nil
	}
	if err := visit(".", 0); err != nil {
		return nil, err
	}
	return out, nil
}

func read(ctx context.Context, fsys fs.FS, display string, readFile func(string) ([]byte, error)) (*Package, flows.Problems, error) {
	ctx, cancel := context.WithTimeout(ctx, ReadTimeout)
	defer cancel()
	files, err := walk(ctx, fsys, display)
	if err != nil {
		return nil, nil, fmt.Errorf("package %s refused: %w", display, err)
	}
	p := &Package{Dir: display}
	shown := func(name string) string { return path.Join(filepath.ToSlash(display), name) }
	var manifest []byte
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("reading package %s: %w", display, err)
		}
		dir, base := path.Split(f.name)
		dir = strings.TrimSuffix(dir, "/")
		yamlFile := strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")
		var dst *[]byte
		switch {
		case f.name == ManifestFile:
			dst = &manifest
		case dir == FlowsDir && yamlFile:
			p.Flows = append(p.Flows, flows.Source{Name: shown(f.name)})
			dst = &p.Flows[len(p.Flows)-1].Data
		case f.name == ServicesFile:
			p.Services = &flows.Source{Name: shown(f.name)}
			dst = &p.Services.Data
		case f.name == TemplatesFile:
			p.Templates = &flows.Source{Name: shown(f.name)}
			dst = &p.Templates.Data
		case f.name == MessagesFile:
			p.Messages = &flows.Source{Name: shown(f.name)}
			dst = &p.Messages.Data
		case dir == TranscriptsDir && yamlFile:
			p.Transcripts = append(p.Transcripts, filepath.Join(display, filepath.FromSlash(f.name)))
			continue
		default:
			continue
		}
		data, err := readFile(f.name)
		if err != nil {
			return nil, nil, fmt.Errorf("reading package %s: %w", display, err)
		}
		*dst = data
	}
	if manifest == nil {
		if st, err := fs.Stat(fsys, ManifestFile); err == nil && st.IsDir() {
			return nil, nil, fmt.Errorf("package %s: %s is a folder; the manifest is a file", display, ManifestFile)
		}
		return nil, nil, fmt.Errorf("package %s: no %s (the institution's manifest)", display, ManifestFile)
	}
	m, problems := parseManifest(shown(ManifestFile), manifest)
	if p.Messages != nil {
		o, ps := i18n.ParseOverrides(p.Messages.Name, p.Messages.Data)
		problems = append(problems, ps...)
		p.Overrides = o
	}
	if m == nil {
		return nil, problems, nil
	}
	p.Manifest = m
	return p, problems, nil
}
