// Package archtest enforces the layering of STYLE.md §2 on the source tree:
// imports only point down, libraries stay in their own subpackage, and the
// sans-IO protocol cores own no clock, goroutine, socket, file, randomness,
// panic or mutable global.
//
// The import graph is the one the go command builds (`go list -deps`), so
// build tags, generated files and vendoring cannot hide an edge, and the
// sans-IO rules look at resolved objects (go/types), so an aliased import or
// a function used as a value (f := time.Now) is caught like a direct call.
package archtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/nutsbolts/webrtc"

// kind is what a package is allowed to be.
type kind int

const (
	// core: sans-IO; bytes and current time in, bytes, events and
	// deadlines out (STYLE.md §2: below udpmux and media).
	core kind = iota
	// ioLayer: the thin I/O layer (sockets, files, goroutines, clocks).
	ioLayer
	// public: package rtcplug, the host's API.
	public
	// adapter: a library named by an issue, kept in its own subpackage over
	// the public API.
	adapter
	// anything: commands and the test harness; not imported by runtime code.
	anything
)

// row is one line of the layering table.
type row struct {
	pkg  string   // path below the module; "x/..." matches x and everything under it
	kind kind     //
	may  []string // module packages it may import directly (paths below the module)
	ext  []string // non-standard modules it may import (module path prefixes)
}

// layering is STYLE.md §2 "Rules" for every package under rtcplug: imports
// only point down `rtcplug → udpmux, conference, media, signal → peer → ice,
// dtls, srtp, rtcp, vp8 → stun, rtp → wire`, with the arrows of the package
// tree (discover → stun, h264 → rtp, media → jpeg/h264dec/vp8dec...). sdp,
// h264dec, vp8dec and jpeg are stdlib only, so they are leaves anyone may
// import. A package
// may also import whatever the internal packages it may import may import
// (pointing down further); the public package is a boundary: an adapter that
// may import rtcplug may not import its internals. Nothing in internal/
// imports rtcplug, chi, websocket or zerolog because no row of it lists them.
// A package under rtcplug that no row matches fails the test: add its row
// deliberately.
var layering = []row{
	{pkg: "rtcplug/internal/wire", kind: core},
	{pkg: "rtcplug/internal/demux", kind: core},
	{pkg: "rtcplug/internal/sdp", kind: core},
	{pkg: "rtcplug/internal/h264dec", kind: core},
	{pkg: "rtcplug/internal/jpeg", kind: core},
	{pkg: "rtcplug/internal/vp8dec", kind: core},
	{pkg: "rtcplug/internal/stun", kind: core, may: []string{"rtcplug/internal/wire"}},
	{pkg: "rtcplug/internal/rtp", kind: core, may: []string{"rtcplug/internal/wire"}},
	{pkg: "rtcplug/internal/rtcp", kind: core, may: []string{"rtcplug/internal/wire"}},
	{pkg: "rtcplug/internal/discover", kind: core, may: []string{"rtcplug/internal/stun"}},
	{pkg: "rtcplug/internal/ice", kind: core, may: []string{"rtcplug/internal/stun"}},
	{pkg: "rtcplug/internal/dtls", kind: core, may: []string{"rtcplug/internal/wire", "rtcplug/internal/srtp"}, ext: []string{"golang.org/x/crypto"}},
	{pkg: "rtcplug/internal/srtp", kind: core, may: []string{"rtcplug/internal/rtp"}},
	{pkg: "rtcplug/internal/vp8", kind: core, may: []string{"rtcplug/internal/rtp"}},
	{pkg: "rtcplug/internal/h264", kind: core, may: []string{"rtcplug/internal/rtp"}},
	{pkg: "rtcplug/internal/peer", kind: core, may: []string{
		"rtcplug/internal/demux", "rtcplug/internal/ice", "rtcplug/internal/dtls", "rtcplug/internal/srtp", "rtcplug/internal/rtcp",
		"rtcplug/internal/vp8", "rtcplug/internal/h264", "rtcplug/internal/sdp"}},
	{pkg: "rtcplug/internal/conference", kind: core, may: []string{"rtcplug/internal/peer"}},
	{pkg: "rtcplug/internal/signal", kind: core, may: []string{"rtcplug/internal/peer"}},
	{pkg: "rtcplug/internal/media", kind: ioLayer, may: []string{
		"rtcplug/internal/peer", "rtcplug/internal/h264dec", "rtcplug/internal/vp8dec", "rtcplug/internal/jpeg"}},
	{pkg: "rtcplug/internal/record", kind: ioLayer, may: []string{"rtcplug/internal/peer"},
		ext: []string{"github.com/Eyevinn/mp4ff", "github.com/at-wat/ebml-go"}},
	{pkg: "rtcplug/internal/udpmux", kind: ioLayer, may: []string{"rtcplug/internal/peer", "rtcplug/internal/discover", "rtcplug/internal/demux"},
		ext: []string{"golang.org/x/net", "golang.org/x/sys"}},
	{pkg: "rtcplug", kind: public, may: []string{
		"rtcplug/internal/udpmux", "rtcplug/internal/conference", "rtcplug/internal/media",
		"rtcplug/internal/signal", "rtcplug/internal/record"},
		ext: []string{"github.com/go-chi/chi/v5", "github.com/coder/websocket", "github.com/rs/zerolog"}},
	{pkg: "rtcplug/rtcprom", kind: adapter, may: []string{"rtcplug"}, ext: []string{"github.com/prometheus/client_golang"}},
	{pkg: "rtcplug/rtcnats", kind: adapter, may: []string{"rtcplug"}, ext: []string{"github.com/nats-io/nats.go"}},
	{pkg: "rtcplug/internal/cmd/...", kind: anything},
	{pkg: "rtcplug/internal/testpeer", kind: anything},
	{pkg: "rtcplug/internal/testivf", kind: anything},
}

// lookupRow returns the row for a package path below the module.
func lookupRow(rel string) (row, bool) {
	for _, r := range layering {
		if base, ok := strings.CutSuffix(r.pkg, "/..."); ok {
			if rel == base || strings.HasPrefix(rel, base+"/") {
				return r, true
			}
		} else if rel == r.pkg {
			return r, true
		}
	}
	return row{}, false
}

// allowed is the set of module packages (below the module) rel may import:
// its row's arrows, and downward through internal packages.
func allowed(rel string) map[string]bool {
	out := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		r, ok := lookupRow(p)
		if !ok {
			return
		}
		for _, m := range r.may {
			if out[m] {
				continue
			}
			out[m] = true
			if strings.HasPrefix(m, "rtcplug/internal/") {
				walk(m)
			}
		}
	}
	walk(rel)
	return out
}

// listed is the part of `go list -json` output the test reads.
type listed struct {
	ImportPath string
	Dir        string
	Export     string
	Standard   bool
	GoFiles    []string
	CgoFiles   []string
	Imports    []string
	Module     *struct{ Path string }
	Error      *struct{ Err string }
}

var (
	graphOnce sync.Once
	graph     map[string]*listed
	graphErr  error
)

// loadGraph runs `go list -deps -export` over rtcplug/... once: the import
// graph the compiler uses, with export data to type-check against.
func loadGraph(t *testing.T) map[string]*listed {
	t.Helper()
	graphOnce.Do(func() {
		args := []string{"list", "-deps", "-export", "-json=ImportPath,Dir,Export,Standard,GoFiles,CgoFiles,Imports,Module,Error"}
		if raceEnabled {
			// The same build flags as this test binary: the export data
			// then comes from the cache `go test -race` just filled.
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, module+"/rtcplug/...")...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			graphErr = fmt.Errorf("go list: %v\n%s", err, stderr.Bytes())
			return
		}
		graph = map[string]*listed{}
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			p := new(listed)
			if err := dec.Decode(p); err == io.EOF {
				break
			} else if err != nil {
				graphErr = err
				return
			}
			graph[p.ImportPath] = p
		}
	})
	if graphErr != nil {
		t.Fatal(graphErr)
	}
	return graph
}

// ours lists the packages of this module under rtcplug, sorted.
func ours(g map[string]*listed) []*listed {
	var out []*listed
	for _, p := range g {
		if p.Module != nil && p.Module.Path == module && strings.HasPrefix(p.ImportPath, module+"/rtcplug") {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ImportPath < out[j].ImportPath })
	return out
}

func rel(importPath string) string { return strings.TrimPrefix(importPath, module+"/") }

// importSites returns, for each import path of p's files, the "file:line"
// of its first import, for messages. Reading every file (and walking the
// tree, see TestLayering) also tells go test's result cache which inputs
// this test depends on: go list runs in a child process it does not watch.
func importSites(t *testing.T, p *listed) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range append(slices.Clone(p.GoFiles), p.CgoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range f.Imports {
			path := strings.Trim(im.Path.Value, "`\"")
			if _, ok := out[path]; !ok {
				out[path] = shortPos(fset.Position(im.Pos()))
			}
		}
	}
	return out
}

// watchTree opens every directory and go.mod/go.sum under the module root so
// that a new package or a changed requirement invalidates a cached result.
func watchTree(t *testing.T, g map[string]*listed) {
	t.Helper()
	p := g[module+"/rtcplug"]
	if p == nil {
		t.Fatal("go list did not list rtcplug")
	}
	root := filepath.Dir(p.Dir)
	for _, f := range []string{"go.mod", "go.sum"} {
		if _, err := os.ReadFile(filepath.Join(root, f)); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.WalkDir(p.Dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != p.Dir {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// shortPos prints a position relative to the module root when it can.
func shortPos(pos token.Position) string {
	if i := strings.Index(pos.Filename, "/rtcplug/"); i >= 0 {
		pos.Filename = pos.Filename[i+1:]
	}
	return pos.String()
}

// TestLayering checks every import edge of every package under rtcplug
// against the table.
func TestLayering(t *testing.T) {
	g := loadGraph(t)
	watchTree(t, g)
	pkgs := ours(g)
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages under rtcplug", len(pkgs))
	}
	for _, p := range pkgs {
		if p.Error != nil {
			t.Errorf("%s: %s", rel(p.ImportPath), p.Error.Err)
			continue
		}
		me := rel(p.ImportPath)
		if len(p.GoFiles)+len(p.CgoFiles) == 0 {
			continue // tests only (like this package): nothing imports it
		}
		r, ok := lookupRow(me)
		if !ok {
			t.Errorf("%s: [layering] package is not in the layering table of archtest; add its row deliberately (STYLE.md §2)", me)
			continue
		}
		sites := importSites(t, p)
		where := func(im string) string {
			if s, ok := sites[im]; ok {
				return s
			}
			return me
		}
		if r.kind == anything {
			continue
		}
		may := allowed(me)
		for _, im := range p.Imports {
			dep := g[im]
			switch {
			case dep == nil:
				t.Errorf("%s: [layering] import %s is missing from go list's graph", where(im), im)
			case dep.Standard:
				// The sans-IO rules below decide which parts of the
				// standard library a core may use.
			case dep.Module != nil && dep.Module.Path == module:
				if !may[rel(im)] {
					t.Errorf("%s: [layering] %s imports %s, which STYLE.md §2 does not allow (imports only point down)", where(im), me, rel(im))
				}
			default:
				okExt := false
				for _, e := range r.ext {
					if im == e || strings.HasPrefix(im, e+"/") {
						okExt = true
					}
				}
				if !okExt {
					t.Errorf("%s: [dependency] %s imports %s; a library lives only in the subpackage its row names (BRIEF: dependencies)", where(im), me, im)
				}
			}
		}
	}
}

// forbiddenPkgs are standard packages no object of which a core may use:
// sockets, files, processes, logging and non-injected randomness.
var forbiddenPkgs = map[string]string{
	"net":           "socket",
	"net/http":      "socket",
	"os":            "file",
	"os/exec":       "process",
	"io/fs":         "file",
	"io/ioutil":     "file",
	"syscall":       "socket",
	"log":           "logging",
	"log/slog":      "logging",
	"math/rand":     "randomness",
	"math/rand/v2":  "randomness",
	"runtime/debug": "runtime",
	"unsafe":        "unsafe",
}

// forbiddenTime are the objects of package time that read the clock or
// schedule: a core is given the current time and returns deadlines.
var forbiddenTime = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "AfterFunc": true,
	"NewTimer": true, "NewTicker": true, "Tick": true, "Timer": true, "Ticker": true, "LoadLocation": true,
	"Local": true,
}

// allowedUnsafe are cores that may use package unsafe, and why.
var allowedUnsafe = map[string]string{
	// Detects overlapping dst/src buffers (ErrOverlap) by address; no
	// pointer is formed from an integer.
	"rtcplug/internal/srtp": "overlap check",
}

// allowedGlobals are package vars of cores that the table rule cannot tell
// apart from state, and why each is a table all the same: built once in its
// declaration, read through pointers (to avoid copying), never written.
var allowedGlobals = map[string]string{
	// VLC lookup tables built from the standard's code lists (ITU-T H.264
	// Tables 9-5, 9-7, 9-8, 9-9, 9-10).
	"rtcplug/internal/h264dec.coeffTokenTables":         "VLC table",
	"rtcplug/internal/h264dec.totalZerosTables":         "VLC table",
	"rtcplug/internal/h264dec.totalZerosChromaDCTables": "VLC table",
	"rtcplug/internal/h264dec.runBeforeTables":          "VLC table",
	// The Huffman tables of ITU-T T.81 Annex K.3, indexed by the encoder.
	"rtcplug/internal/jpeg.huffCode": "Huffman table",
}

// finding is one rule violation.
type finding struct {
	pos  token.Position
	rule string
	msg  string
}

func (f finding) String() string {
	return fmt.Sprintf("%s: [%s] %s", shortPos(f.pos), f.rule, f.msg)
}

// exportImporter imports packages from the export data go list produced.
func exportImporter(fset *token.FileSet, g map[string]*listed) types.Importer {
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		p := g[path]
		if p == nil || p.Export == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(p.Export)
	})
}

// checkCore type-checks the given files as package path and returns the
// sans-IO findings.
func checkCore(fset *token.FileSet, imp types.Importer, path string, files []*ast.File) ([]finding, error) {
	info := &types.Info{
		Uses:       map[*ast.Ident]types.Object{},
		Defs:       map[*ast.Ident]types.Object{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
		Types:      map[ast.Expr]types.TypeAndValue{},
	}
	conf := types.Config{Importer: imp}
	pkg, err := conf.Check(path, fset, files, info)
	if err != nil {
		return nil, err
	}
	var out []finding
	add := func(n ast.Node, rule, format string, args ...any) {
		out = append(out, finding{fset.Position(n.Pos()), rule, fmt.Sprintf(format, args...)})
	}

	// crypto/rand.Reader may only be assigned, as the default of an
	// injected source (cfg.Rand = rand.Reader); read from directly or passed
	// on, it is randomness the caller cannot replace.
	defaultRand := map[*ast.Ident]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if as, ok := n.(*ast.AssignStmt); ok {
				for _, r := range as.Rhs {
					switch r := ast.Unparen(r).(type) {
					case *ast.SelectorExpr:
						defaultRand[r.Sel] = true
					case *ast.Ident:
						defaultRand[r] = true
					}
				}
			}
			return true
		})
	}

	// Every use of an object, whatever the import was named and whether it
	// is called or taken as a value.
	for id, obj := range info.Uses {
		if b, ok := obj.(*types.Builtin); ok && b.Name() == "panic" {
			add(id, "sans-io/panic", "core calls panic; return an error (hostile input never crashes us)")
			continue
		}
		if obj.Pkg() == nil || obj.Pkg() == pkg {
			continue
		}
		op := obj.Pkg().Path()
		name := obj.Name()
		if fn, ok := obj.(*types.Func); ok {
			if recv := fn.Type().(*types.Signature).Recv(); recv != nil {
				name = recvName(recv.Type()) + "." + name
			}
		}
		switch {
		case op == "time" && (forbiddenTime[name] || forbiddenTime[strings.SplitN(name, ".", 2)[0]]):
			add(id, "sans-io/clock", "core uses time.%s; take the current time as an argument and return deadlines", name)
		case op == "crypto/rand" && (name != "Reader" || !defaultRand[id]):
			add(id, "sans-io/rand", "core uses crypto/rand.%s; take an io.Reader (crypto/rand.Reader only assigned as its default)", name)
		case forbiddenPkgs[op] != "" && !(op == "unsafe" && allowedUnsafe[rel(path)] != ""):
			add(id, "sans-io/"+forbiddenPkgs[op], "core uses %s.%s", op, name)
		}
	}

	globals := map[types.Object]bool{}
	for _, name := range pkg.Scope().Names() {
		if v, ok := pkg.Scope().Lookup(name).(*types.Var); ok && allowedGlobals[rel(path)+"."+name] == "" {
			globals[v] = true
		}
	}
	errType := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				for _, id := range s.(*ast.ValueSpec).Names {
					v := info.Defs[id]
					if v == nil || id.Name == "_" || !globals[v] {
						continue
					}
					if types.Implements(v.Type(), errType) || isTable(v.Type(), map[types.Type]bool{}) {
						continue
					}
					add(id, "sans-io/global", "package var %s of type %s is neither a table nor a sentinel error", id.Name, v.Type())
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				add(n, "sans-io/goroutine", "core starts a goroutine; the I/O layer runs cores")
			case *ast.FuncDecl:
				if n.Recv == nil && n.Name.Name == "init" {
					add(n, "sans-io/global", "core has an init function; tables are initialised in their declaration")
				}
			case *ast.AssignStmt:
				for _, l := range n.Lhs {
					if g := root(info, l); g != nil && globals[g] {
						add(l, "sans-io/global", "core writes package var %s", g.Name())
					}
				}
			case *ast.IncDecStmt:
				if g := root(info, n.X); g != nil && globals[g] {
					add(n, "sans-io/global", "core writes package var %s", g.Name())
				}
			case *ast.RangeStmt:
				for _, l := range []ast.Expr{n.Key, n.Value} {
					if l != nil && n.Tok == token.ASSIGN {
						if g := root(info, l); g != nil && globals[g] {
							add(l, "sans-io/global", "core writes package var %s", g.Name())
						}
					}
				}
			case *ast.UnaryExpr:
				if n.Op == token.AND {
					if g := root(info, n.X); g != nil && globals[g] {
						add(n, "sans-io/global", "core takes the address of package var %s", g.Name())
					}
				}
			case *ast.CallExpr:
				// copy(g, ...), clear(g), delete(g, k) mutate in place.
				if id, ok := ast.Unparen(n.Fun).(*ast.Ident); ok && len(n.Args) > 0 {
					if b, ok := info.Uses[id].(*types.Builtin); ok && (b.Name() == "copy" || b.Name() == "clear" || b.Name() == "delete") {
						if g := root(info, n.Args[0]); g != nil && globals[g] {
							add(n, "sans-io/global", "core mutates package var %s with %s", g.Name(), b.Name())
						}
					}
				}
			case *ast.SelectorExpr:
				// A pointer-receiver method on an addressable global may
				// mutate it (g.Add(1), pool.Get()).
				if sel := info.Selections[n]; sel != nil && sel.Kind() == types.MethodVal {
					if sig, ok := sel.Obj().Type().(*types.Signature); ok && sig.Recv() != nil {
						if _, ptr := sig.Recv().Type().(*types.Pointer); ptr {
							if _, isPtr := sel.Recv().(*types.Pointer); !isPtr {
								if g := root(info, n.X); g != nil && globals[g] {
									add(n, "sans-io/global", "core calls pointer method %s on package var %s", sel.Obj().Name(), g.Name())
								}
							}
						}
					}
				}
			}
			return true
		})
	}
	return out, nil
}

// recvName names a method's receiver type ("Timer" for *time.Timer).
func recvName(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := t.(*types.Named); ok {
		return n.Obj().Name()
	}
	return t.String()
}

// root returns the package-level variable an lvalue expression is rooted in
// (g, g[i], g.f, g[i].f[j] ...), or nil.
func root(info *types.Info, e ast.Expr) types.Object {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			if v, ok := info.Uses[x].(*types.Var); ok && v.Parent() == v.Pkg().Scope() {
				return v
			}
			return nil
		case *ast.IndexExpr:
			// Indexing a slice or map reaches shared storage; indexing an
			// array copy does too when the array itself is the global.
			e = x.X
		case *ast.SelectorExpr:
			if sel := info.Selections[x]; sel != nil && sel.Kind() == types.FieldVal {
				e = x.X
				continue
			}
			if v, ok := info.Uses[x.Sel].(*types.Var); ok && v.Parent() == v.Pkg().Scope() {
				return v
			}
			return nil
		case *ast.StarExpr:
			e = x.X
		case *ast.SliceExpr:
			e = x.X
		default:
			return nil
		}
	}
}

// isTable reports whether t holds only plain data (numbers, strings, bools,
// functions, and arrays, slices, maps and structs of them): a lookup table
// whose writes the checks above would see. Pointers, channels, interfaces
// and types with pointer-receiver methods (sync.Pool, atomic counters, big
// integers) are state, not tables.
func isTable(t types.Type, seen map[types.Type]bool) bool {
	if seen[t] {
		return true
	}
	seen[t] = true
	if n, ok := t.(*types.Named); ok {
		for m := range n.Methods() {
			if _, ptr := m.Type().(*types.Signature).Recv().Type().(*types.Pointer); ptr {
				return false
			}
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Kind() != types.UnsafePointer
	case *types.Signature:
		return true
	case *types.Array:
		return isTable(u.Elem(), seen)
	case *types.Slice:
		return isTable(u.Elem(), seen)
	case *types.Map:
		return isTable(u.Key(), seen) && isTable(u.Elem(), seen)
	case *types.Struct:
		for f := range u.Fields() {
			if !isTable(f.Type(), seen) {
				return false
			}
		}
		return true
	}
	return false
}

// TestCoresAreSansIO type-checks every core against the export data of its
// imports and applies the sans-IO rules to resolved objects.
func TestCoresAreSansIO(t *testing.T) {
	g := loadGraph(t)
	fset := token.NewFileSet()
	imp := exportImporter(fset, g)
	n := 0
	for _, p := range ours(g) {
		r, ok := lookupRow(rel(p.ImportPath))
		if !ok || r.kind != core || len(p.GoFiles) == 0 {
			continue
		}
		n++
		var files []*ast.File
		for _, name := range append(slices.Clone(p.GoFiles), p.CgoFiles...) {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		found, err := checkCore(fset, imp, p.ImportPath, files)
		if err != nil {
			t.Errorf("%s: type-check: %v", rel(p.ImportPath), err)
			continue
		}
		sort.Slice(found, func(i, j int) bool {
			a, b := found[i].pos, found[j].pos
			return a.Filename < b.Filename || a.Filename == b.Filename && a.Offset < b.Offset
		})
		for _, f := range found {
			t.Error(f)
		}
	}
	if n < 10 {
		t.Fatalf("only %d cores type-checked", n)
	}
}

// TestRulesCannotBeFooled runs the sans-IO checks on testdata/fooled, which
// hides each violation behind an alias, a function value, a shadowed name or
// an indirect write, and expects exactly the lines marked `// want "rule"`.
func TestRulesCannotBeFooled(t *testing.T) {
	g := loadGraph(t)
	fset := token.NewFileSet()
	dir := filepath.Join("testdata", "fooled")
	pkgs, err := parser.ParseDir(fset, dir, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, p := range pkgs {
		for _, f := range p.Files {
			files = append(files, f)
		}
	}
	want := map[string]bool{}
	for _, f := range files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if rules, ok := strings.CutPrefix(c.Text, "// want "); ok {
					for _, rule := range strings.Fields(rules) {
						want[fmt.Sprintf("%d %s", fset.Position(c.Pos()).Line, strings.Trim(rule, `"`))] = true
					}
				}
			}
		}
	}
	found, err := checkCore(fset, exportImporter(fset, g), "example.com/fooled", files)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range found {
		key := fmt.Sprintf("%d %s", f.pos.Line, f.rule)
		got[key] = true
		if !want[key] {
			t.Errorf("unexpected finding %s", f)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("line %s: violation not reported", k)
		}
	}
}

// TestTablePointsDown checks the table itself: no package may reach itself
// through the arrows (imports point down), the public package is a boundary,
// and a new package is matched only by a deliberate row.
func TestTablePointsDown(t *testing.T) {
	for _, r := range layering {
		if strings.HasSuffix(r.pkg, "/...") {
			continue
		}
		if allowed(r.pkg)[r.pkg] {
			t.Errorf("%s can reach itself through the layering table", r.pkg)
		}
		for m := range allowed(r.pkg) {
			if _, ok := lookupRow(m); !ok {
				t.Errorf("%s may import %s, which has no row", r.pkg, m)
			}
		}
	}
	for _, c := range []struct {
		from, to string
		ok       bool
	}{
		{"rtcplug/internal/peer", "rtcplug/internal/conference", false},
		{"rtcplug/internal/peer", "rtcplug/internal/udpmux", false},
		{"rtcplug/internal/peer", "rtcplug/internal/wire", true},
		{"rtcplug/internal/peer", "rtcplug/internal/sdp", true},
		{"rtcplug/internal/media", "rtcplug/internal/jpeg", true},
		{"rtcplug/internal/stun", "rtcplug/internal/rtp", false},
		{"rtcplug/internal/sdp", "rtcplug/internal/wire", false},
		{"rtcplug/internal/h264", "rtcplug/internal/rtp", true},
		{"rtcplug/internal/udpmux", "rtcplug", false},
		{"rtcplug/internal/udpmux", "rtcplug/internal/media", false},
		{"rtcplug", "rtcplug/internal/peer", true},
		{"rtcplug", "rtcplug/rtcprom", false},
		{"rtcplug/rtcprom", "rtcplug", true},
		{"rtcplug/rtcprom", "rtcplug/internal/peer", false},
		{"rtcplug/rtcnats", "rtcplug/rtcprom", false},
	} {
		if got := allowed(c.from)[c.to]; got != c.ok {
			t.Errorf("%s -> %s allowed = %v, want %v", c.from, c.to, got, c.ok)
		}
	}
	for p, want := range map[string]bool{
		"rtcplug/internal/cmd/rtcload": true,
		"rtcplug/internal/cmd":         true,
		"rtcplug/internal/cmdx":        false,
		"rtcplug/internal/newcore":     false,
		"rtcplug/rtcfoo":               false,
	} {
		if _, ok := lookupRow(p); ok != want {
			t.Errorf("lookupRow(%s) = %v, want %v", p, ok, want)
		}
	}
}
