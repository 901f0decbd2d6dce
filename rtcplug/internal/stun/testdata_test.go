package stun

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// testdataDir is the repository's shared test data.
var testdataDir = filepath.Join("..", "..", "..", "testdata")

// vector is one "[id] title" block of a testdata/vectors file: its top-level
// "name: value" entries, hex continuation lines folded in.
type vector struct {
	id     string
	fields map[string]string
}

// hexField decodes a field written as hex groups, ignoring a "(remark)".
func (v vector) hexField(t testing.TB, name string) []byte {
	t.Helper()
	s, ok := v.fields[name]
	if !ok {
		t.Fatalf("%s: no field %q", v.id, name)
	}
	if i := strings.IndexByte(s, '('); i >= 0 {
		s = s[:i]
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("%s: field %q: %v", v.id, name, err)
	}
	return b
}

// textField returns a "quoted string" field (no escapes occur in the files).
func (v vector) textField(t testing.TB, name string) string {
	t.Helper()
	parts := strings.Split(v.fields[name], `"`)
	if len(parts) < 3 {
		t.Fatalf("%s: field %q is not a quoted string", v.id, name)
	}
	return parts[1]
}

func isHexLine(s string) bool {
	for _, f := range strings.Fields(s) {
		if _, err := hex.DecodeString(f); err != nil {
			return false
		}
	}
	return s != ""
}

// loadVectors parses the format described in testdata/vectors/README.txt.
func loadVectors(t testing.TB, name string) map[string]vector {
	t.Helper()
	f, err := os.Open(filepath.Join(testdataDir, "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]vector{}
	var cur *vector
	last := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "|"):
		case strings.HasPrefix(line, "["):
			id := line[1:strings.IndexByte(line, ']')]
			out[id] = vector{id: id, fields: map[string]string{}}
			v := out[id]
			cur = &v
			last = ""
		case cur == nil:
		case line[0] == ' ' || line[0] == '\t':
			if last != "" && isHexLine(strings.TrimSpace(line)) {
				cur.fields[last] += " " + strings.TrimSpace(line)
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = name
			cur.fields[name] = strings.TrimSpace(value)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// captureFrame returns datagram n of testdata/chromium156-pion-handshake.txt.
func captureFrame(t testing.TB, n int) []byte {
	t.Helper()
	frames := captureFrames(t)
	b, ok := frames[n]
	if !ok {
		t.Fatalf("no frame %d", n)
	}
	return b
}

func captureFrames(t testing.TB) map[int][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, "chromium156-pion-handshake.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int][]byte{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || strings.HasPrefix(line, "#") {
			continue
		}
		n, err1 := strconv.Atoi(f[0])
		l, err2 := strconv.Atoi(f[2])
		b, err3 := hex.DecodeString(f[3])
		if err1 != nil || err2 != nil || err3 != nil || len(b) != l {
			t.Fatalf("bad capture line %q", line[:min(len(line), 40)])
		}
		out[n] = b
	}
	return out
}
