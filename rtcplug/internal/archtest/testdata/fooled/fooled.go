// Package fooled breaks every sans-IO rule in the ways a name-matching check
// misses; TestRulesCannotBeFooled expects each "want" line to be reported.
package fooled

import (
	cr "crypto/rand"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	t "time"
)

// ErrX is a sentinel error: allowed.
var ErrX = errors.New("fooled: x")

// table and names are tables nobody writes: allowed.
var (
	table = [...]uint8{1, 2, 3}
	names = map[uint8]string{1: "a"}
)

var rnd io.Reader = cr.Reader // want "sans-io/global" "sans-io/rand"

var counter atomic.Int64 // want "sans-io/global"

var mu sync.Mutex // want "sans-io/global"

var hits = map[string]int{}

var clock = t.Now // want "sans-io/clock"

func f(b []byte) {
	now := t.Now // want "sans-io/clock"
	_ = now
	_, _ = cr.Read(b)                // want "sans-io/rand"
	_, _ = io.ReadFull(cr.Reader, b) // want "sans-io/rand"
	var src io.Reader
	if src == nil {
		src = cr.Reader // the default of an injected source: allowed
	}
	_, _ = io.ReadFull(src, b)
	go f(nil)      // want "sans-io/goroutine"
	hits["x"]++    // want "sans-io/global"
	table[0] = 2   // want "sans-io/global"
	var c net.Conn // want "sans-io/socket"
	_ = c
	var tm *t.Timer // want "sans-io/clock"
	_ = tm
	p := &names // want "sans-io/global"
	_ = p
	clear(hits)   // want "sans-io/global"
	panic("boom") // want "sans-io/panic"
}

func g() {
	panic := func(string) {} // a local func named panic is not the builtin
	panic("shadowed")
	_ = names[1]
	_ = table[2]
}

// h uses the pure parts of package time: allowed.
func h(d t.Duration) t.Time { return t.Unix(0, 0).Add(d) }
