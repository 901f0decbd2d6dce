package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestContainerLibrariesStayInRecord: the container libraries the recording
// issue named (Eyevinn/mp4ff, at-wat/ebml-go) are imported by
// internal/record alone, so the core's dependencies stay as DESIGN.md lists
// them.
func TestContainerLibrariesStayInRecord(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n != "." && n != ".." && strings.HasPrefix(n, ".") || n == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		inRecord := filepath.Dir(path) == filepath.Join(root, "rtcplug", "internal", "record")
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if (strings.HasPrefix(p, "github.com/Eyevinn/mp4ff") || strings.HasPrefix(p, "github.com/at-wat/ebml-go")) && !inRecord {
				t.Errorf("%s imports %s: only internal/record may", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
