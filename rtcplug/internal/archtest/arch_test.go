// Package archtest enforces the layering of STYLE.md §2 on the source tree:
// imports only point down, and the sans-IO protocol cores own no clock,
// goroutine, socket, file or panic.
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/nutsbolts/webrtc/"

// cores are the sans-IO packages: bytes and time in, bytes, events and
// deadlines out.
var cores = []string{"wire", "stun", "ice", "discover", "dtls", "srtp", "rtp", "rtcp", "sdp", "vp8", "h264", "peer", "conference", "signal", "h264dec"}

// allowedInternal lists, for each internal package, the internal packages it
// may import. Anything not listed is a layering error.
var allowedInternal = map[string][]string{
	"wire":       {},
	"h264dec":    {},
	"sdp":        {"wire"},
	"stun":       {"wire"},
	"rtp":        {"wire"},
	"rtcp":       {"wire"},
	"discover":   {"stun", "wire"},
	"ice":        {"stun", "wire"},
	"dtls":       {"wire"},
	"srtp":       {"rtp", "wire"},
	"vp8":        {"rtp", "wire"},
	"h264":       {"rtp", "wire"},
	"signal":     {"sdp", "wire"},
	"peer":       {"ice", "dtls", "srtp", "rtp", "rtcp", "vp8", "h264", "stun", "sdp", "wire"},
	"conference": {"peer", "ice", "stun", "sdp", "dtls", "wire"},
	"jpeg":       {},
	"media":      {"vp8", "h264dec", "rtp", "wire", "jpeg"},
	"record":     {},
	"udpmux":     {"conference", "peer", "discover", "ice", "stun", "dtls", "srtp", "rtp", "rtcp", "vp8", "sdp", "media", "wire"},
}

// forbiddenInCore are imports a sans-IO core must not have.
var forbiddenInCore = []string{"net", "os", "os/exec", "log", "log/slog", "syscall", "net/http",
	"github.com/go-chi/chi/v5", "github.com/coder/websocket", "github.com/rs/zerolog"}

// forbiddenCalls are package-qualified functions a core must not call.
var forbiddenCalls = map[string]bool{
	"time.Now": true, "time.Sleep": true, "time.After": true, "time.AfterFunc": true,
	"time.NewTimer": true, "time.NewTicker": true, "time.Tick": true, "time.Since": true, "time.Until": true,
	"rand.Int": true, "rand.Intn": true, "rand.Read": true,
}

type pkgFiles struct {
	imports map[string]bool
	files   []*ast.File
	fset    *token.FileSet
}

func load(t *testing.T, dir string) *pkgFiles {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := &pkgFiles{imports: map[string]bool{}, fset: token.NewFileSet()}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(p.fset, filepath.Join(dir, n), nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		full, err := parser.ParseFile(p.fset, filepath.Join(dir, n), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			p.imports[path] = true
		}
		p.files = append(p.files, full)
	}
	return p
}

func internalDirs(t *testing.T) []string {
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "archtest" {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func TestImportsPointDown(t *testing.T) {
	for _, name := range internalDirs(t) {
		p := load(t, filepath.Join("..", name))
		if len(p.files) == 0 {
			continue
		}
		allowed, known := allowedInternal[name]
		if !known {
			t.Errorf("internal/%s is not in the layering table of this test; add it deliberately", name)
			continue
		}
		ok := map[string]bool{}
		for _, a := range allowed {
			ok[module+"rtcplug/internal/"+a] = true
		}
		for im := range p.imports {
			if !strings.HasPrefix(im, module) {
				continue
			}
			if !ok[im] {
				t.Errorf("internal/%s imports %s, which STYLE.md §2 does not allow", name, strings.TrimPrefix(im, module))
			}
		}
	}
}

func TestCoresAreSansIO(t *testing.T) {
	for _, name := range cores {
		dir := filepath.Join("..", name)
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("core internal/%s: %v", name, err)
			continue
		}
		p := load(t, dir)
		for _, bad := range forbiddenInCore {
			if p.imports[bad] {
				t.Errorf("core internal/%s imports %s", name, bad)
			}
		}
		for _, f := range p.files {
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					t.Errorf("%s: core starts a goroutine", p.fset.Position(n.Pos()))
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "panic" {
						t.Errorf("%s: core calls panic", p.fset.Position(n.Pos()))
					}
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
						if x, ok := sel.X.(*ast.Ident); ok && forbiddenCalls[x.Name+"."+sel.Sel.Name] {
							t.Errorf("%s: core calls %s.%s", p.fset.Position(n.Pos()), x.Name, sel.Sel.Name)
						}
					}
				}
				return true
			})
		}
	}
}
