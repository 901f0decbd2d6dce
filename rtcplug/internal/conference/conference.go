// Package conference is the registry of conferences and their peers, by name
// and id, with the limits on joining and the peers' ICE credentials. Routing
// a datagram by ufrag or address is udpmux's (udpmux.Table). Every table is
// bounded; a conference exists while it has peers. The registry is safe for concurrent use and holds no goroutines.
package conference

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
)

// Default limits.
const (
	DefaultMaxConferences        = 64
	DefaultMaxPeersPerConference = 16
	DefaultMaxPeers              = 256
	DefaultMaxPending            = 64
)

// Credential lengths. RFC 8445 §5.3: ufrag ≥ 4 and pwd ≥ 22 characters of
// ice-char; hex is a subset of ice-char.
const (
	idBytes    = 8
	ufragBytes = 8
	pwdBytes   = 16
)

// Errors returned by Join.
var (
	ErrTooManyConferences = errors.New("conference: too many conferences")
	ErrConferenceFull     = errors.New("conference: conference is full")
	ErrTooManyPeers       = errors.New("conference: too many peers")
	ErrTooManyPending     = errors.New("conference: too many handshakes in progress")
	// ErrSourcePending is a pending limit too (errors.Is matches
	// ErrTooManyPending): one source holds its share of the pending slots.
	ErrSourcePending = fmt.Errorf("%w from this source", ErrTooManyPending)
	ErrClosed        = errors.New("conference: registry closed")
)

// Limits bounds the registry. Zero fields take the defaults.
type Limits struct {
	MaxConferences        int
	MaxPeersPerConference int
	MaxPeers              int
	MaxPending            int // peers joined but not yet connected
	// MaxPendingPerSource bounds the pending peers of one source (see
	// JoinFrom), so that one source refilling pending slots as they free
	// cannot starve the others. Default: a quarter of MaxPending, at least 1.
	MaxPendingPerSource int
}

func (l Limits) withDefaults() Limits {
	if l.MaxConferences <= 0 {
		l.MaxConferences = DefaultMaxConferences
	}
	if l.MaxPeersPerConference <= 0 {
		l.MaxPeersPerConference = DefaultMaxPeersPerConference
	}
	if l.MaxPeers <= 0 {
		l.MaxPeers = DefaultMaxPeers
	}
	if l.MaxPending <= 0 {
		l.MaxPending = DefaultMaxPending
	}
	if l.MaxPendingPerSource <= 0 {
		l.MaxPendingPerSource = max(1, l.MaxPending/4)
	}
	return l
}

// Member is one peer in the registry. ID, Conference, Ufrag and Pwd never
// change; Value is what the host attached in Join.
type Member[T any] struct {
	ID, Conference string
	Ufrag, Pwd     string
	Value          T

	pending bool
	source  string // JoinFrom's source, "" for none
	gone    bool
}

// Registry maps conference names and peer ids to members.
type Registry[T any] struct {
	limits Limits
	rand   io.Reader

	mu      sync.RWMutex
	confs   map[string]map[string]*Member[T]
	peers   int
	pending int
	// pendingBy counts pending members per source; an entry goes when its
	// count reaches zero, so it holds at most MaxPending entries.
	pendingBy map[string]int
	closed    bool
}

// New returns an empty registry. rand supplies peer ids and ICE credentials
// (crypto/rand.Reader in production).
func New[T any](limits Limits, rand io.Reader) *Registry[T] {
	return &Registry[T]{
		limits:    limits.withDefaults(),
		rand:      rand,
		confs:     make(map[string]map[string]*Member[T]),
		pendingBy: make(map[string]int),
	}
}

// Join adds a new peer to conference (created if needed), with fresh random
// id and ICE credentials. mk builds the member's value from them before the
// member is published, so lookups never see a half-built member; mk must have
// no side effects that outlive a refused join. The member counts as pending
// until Connected.
func (r *Registry[T]) Join(conference string, mk func(m *Member[T]) (T, error)) (*Member[T], error) {
	return r.JoinFrom(conference, "", mk)
}

// JoinFrom is Join for a peer from source (the caller's key for where the
// request came from, e.g. a client IP address or IPv6 /64): besides the
// global pending limit, one source may hold at most MaxPendingPerSource
// pending peers (ErrSourcePending). An empty source is not counted per
// source.
func (r *Registry[T]) JoinFrom(conference, source string, mk func(m *Member[T]) (T, error)) (*Member[T], error) {
	m := &Member[T]{Conference: conference, pending: true, source: source}
	var err error
	if m.ID, err = r.token(idBytes); err != nil {
		return nil, err
	}
	if m.Ufrag, err = r.token(ufragBytes); err != nil {
		return nil, err
	}
	if m.Pwd, err = r.token(pwdBytes); err != nil {
		return nil, err
	}
	if err := r.check(conference, source); err != nil {
		return nil, err
	}
	if m.Value, err = mk(m); err != nil {
		return nil, err
	}
	if err := r.admit(m); err != nil {
		return nil, err
	}
	return m, nil
}

// check tells early whether a join would be refused, before the caller
// builds anything.
func (r *Registry[T]) check(conference, source string) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.limitErr(conference, source)
}

func (r *Registry[T]) limitErr(conference, source string) error {
	if r.closed {
		return ErrClosed
	}
	peers, ok := r.confs[conference]
	switch {
	case !ok && len(r.confs) >= r.limits.MaxConferences:
		return fmt.Errorf("%w (limit %d)", ErrTooManyConferences, r.limits.MaxConferences)
	case len(peers) >= r.limits.MaxPeersPerConference:
		return fmt.Errorf("%w (limit %d)", ErrConferenceFull, r.limits.MaxPeersPerConference)
	case r.peers >= r.limits.MaxPeers:
		return fmt.Errorf("%w (limit %d)", ErrTooManyPeers, r.limits.MaxPeers)
	case r.pending >= r.limits.MaxPending:
		return fmt.Errorf("%w (limit %d)", ErrTooManyPending, r.limits.MaxPending)
	case source != "" && r.pendingBy[source] >= r.limits.MaxPendingPerSource:
		return fmt.Errorf("%w (limit %d)", ErrSourcePending, r.limits.MaxPendingPerSource)
	}
	return nil
}

// admit reserves the member's place under the limits.
func (r *Registry[T]) admit(m *Member[T]) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.limitErr(m.Conference, m.source); err != nil {
		return err
	}
	peers, ok := r.confs[m.Conference]
	if !ok {
		peers = make(map[string]*Member[T])
		r.confs[m.Conference] = peers
	}
	if _, dup := peers[m.ID]; dup {
		return errors.New("conference: id collision")
	}
	peers[m.ID] = m
	r.peers++
	r.pending++
	if m.source != "" {
		r.pendingBy[m.source]++
	}
	return nil
}

// unpend releases m's pending slot; r.mu is held.
func (r *Registry[T]) unpend(m *Member[T]) {
	m.pending = false
	r.pending--
	if m.source == "" {
		return
	}
	if n := r.pendingBy[m.source] - 1; n > 0 {
		r.pendingBy[m.source] = n
	} else {
		delete(r.pendingBy, m.source)
	}
}

// Connected marks m as no longer pending (its handshake finished or failed),
// freeing a pending slot.
func (r *Registry[T]) Connected(m *Member[T]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.pending && !m.gone {
		r.unpend(m)
	}
}

// Leave removes m; the conference goes when empty. It
// reports whether m was still registered.
func (r *Registry[T]) Leave(m *Member[T]) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.gone {
		return false
	}
	m.gone = true
	if m.pending {
		r.unpend(m)
	}
	r.peers--
	if peers := r.confs[m.Conference]; peers != nil {
		delete(peers, m.ID)
		if len(peers) == 0 {
			delete(r.confs, m.Conference)
		}
	}
	return true
}

// ByID finds a member by conference and id.
func (r *Registry[T]) ByID(conference, id string) (*Member[T], bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m, ok := r.confs[conference][id]
	return m, ok
}

// Close refuses further joins and returns every member still registered, for
// the caller to shut down.
func (r *Registry[T]) Close() []*Member[T] {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	var all []*Member[T]
	for _, peers := range r.confs {
		for _, m := range peers {
			all = append(all, m)
		}
	}
	return all
}

// Members returns every member currently registered.
func (r *Registry[T]) Members() []*Member[T] {
	r.mu.RLock()
	defer r.mu.RUnlock()
	all := make([]*Member[T], 0, r.peers)
	for _, peers := range r.confs {
		for _, m := range peers {
			all = append(all, m)
		}
	}
	return all
}

// Stats is a snapshot of the registry's size.
type Stats struct {
	Conferences, Peers, Pending int
}

// Stats returns the current counts.
func (r *Registry[T]) Stats() Stats {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return Stats{Conferences: len(r.confs), Peers: r.peers, Pending: r.pending}
}

// Conferences lists the conference names, sorted.
func (r *Registry[T]) Conferences() []string {
	r.mu.RLock()
	names := make([]string, 0, len(r.confs))
	for n := range r.confs {
		names = append(names, n)
	}
	r.mu.RUnlock()
	sort.Strings(names)
	return names
}

func (r *Registry[T]) token(n int) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(r.rand, b[:n]); err != nil {
		return "", fmt.Errorf("conference: random: %w", err)
	}
	return hex.EncodeToString(b[:n]), nil
}
