package srtp

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vector is one "[id] title" block of a testdata/vectors file (format in
// testdata/vectors/README.txt). Values are kept as hex bytes where they are hex.
type vector struct {
	id     string
	values map[string][]byte // by full name and by the name before " ("
}

func (v *vector) get(t testing.TB, name string) []byte {
	t.Helper()
	b, ok := v.values[name]
	if !ok {
		t.Fatalf("[%s]: no %q", v.id, name)
	}
	return b
}

// parseHex reads leading hex groups of s, stopping at the first token that is
// not hex (a remark, a unit, text).
func parseHex(s string) []byte {
	var out []byte
	for _, tok := range strings.Fields(s) {
		if len(tok)%2 != 0 {
			break
		}
		b, err := hex.DecodeString(tok)
		if err != nil {
			break
		}
		out = append(out, b...)
	}
	return out
}

func allHex(s string) bool {
	f := strings.Fields(s)
	if len(f) == 0 {
		return false
	}
	for _, tok := range f {
		if _, err := hex.DecodeString(tok); err != nil || len(tok)%2 != 0 {
			return false
		}
	}
	return true
}

func loadVectors(t testing.TB, file string) map[string]*vector {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "..", "testdata", "vectors", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vs := map[string]*vector{}
	var cur *vector
	var names []string // names of the entry continuation lines extend
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "|"):
			continue
		case strings.HasPrefix(line, "["):
			end := strings.Index(line, "]")
			cur = &vector{id: line[1:end], values: map[string][]byte{}}
			vs[cur.id] = cur
			names = nil
		case cur == nil:
			continue
		case line[0] == ' ' || line[0] == '\t':
			if allHex(line) {
				for _, n := range names {
					cur.values[n] = append(cur.values[n], parseHex(line)...)
				}
			} else {
				names = nil
			}
		default:
			var name, val string
			if i := strings.Index(line, ": "); i >= 0 {
				name, val = line[:i], line[i+2:]
			} else if strings.HasSuffix(line, ":") {
				name = line[:len(line)-1]
			} else {
				continue
			}
			names = []string{name}
			if i := strings.Index(name, " ("); i > 0 {
				names = append(names, name[:i])
			}
			for _, n := range names {
				cur.values[n] = parseHex(val)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}
