package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"taxiihub/internal/store"
)

// session is one signed-in person or token holder. The browser holds only its id, in an HttpOnly
// cookie; the token presented at sign-in is never kept, only its record id, which is read again on
// every request so that revoking the token ends the session.
type session struct {
	// csrf is the token every state-changing form carries back.
	csrf     string
	created  time.Time
	lastSeen time.Time

	// Partner sessions: the member, and the token that opened the session ("" for a person
	// signed in through the member's identity provider).
	member  string
	tokenID string
	// Operator sessions: the operator's name and token ("" through the operator provider).
	operator string
	person   store.Person
	roles    roles
}

// roles are what a person may do in the console, as the identity provider's roles claim says.
type roles struct {
	analyst, reviewer, memberAdmin, operator bool
}

// pendingLogin is an authorization request sent to an identity provider and not yet answered: the
// state that comes back with the answer, the nonce the ID token must carry and the PKCE verifier.
type pendingLogin struct {
	provider string
	nonce    string
	verifier string
	created  time.Time
}

// sessions keeps the console's sessions in this process's memory. Each hub node keeps its own: a
// deployment with several nodes behind a load balancer needs sticky sessions (see the README's
// "Console"). Its size is bounded: beyond max sessions the oldest is ended, so that sign-ins
// cannot exhaust memory.
type sessions struct {
	mu       sync.Mutex
	byID     map[string]*session // by the SHA-256 of the cookie's value
	pending  map[string]pendingLogin
	max      int
	idle     time.Duration
	absolute time.Duration
	now      func() time.Time
}

// pendingLoginTTL is how long a person has to sign in at their identity provider.
const pendingLoginTTL = 10 * time.Minute

func newSessions(max int, idle, absolute time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, pending: map[string]pendingLogin{}, max: max,
		idle: idle, absolute: absolute, now: now}
}

// randomToken returns 32 random bytes, URL-safe base64.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// key is how a session is found: by the digest of its id, so that a dump of the process's memory
// does not hold cookies that can be replayed as they are.
func key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return string(sum[:])
}

// open starts a session and returns the id the cookie carries.
func (s *sessions) open(sess session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	for len(s.byID) >= s.max {
		s.endOldest()
	}
	id := randomToken()
	sess.csrf = randomToken()
	sess.created, sess.lastSeen = now, now
	s.byID[key(id)] = &sess
	return id
}

// get returns the session of the id, touching it, or false if there is none or it has timed out.
func (s *sessions) get(id string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byID[key(id)]
	if !ok {
		return session{}, false
	}
	now := s.now()
	if s.expired(sess, now) {
		delete(s.byID, key(id))
		return session{}, false
	}
	sess.lastSeen = now
	return *sess, true
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, key(id))
}

func (s *sessions) expired(sess *session, now time.Time) bool {
	return now.Sub(sess.lastSeen) >= s.idle || now.Sub(sess.created) >= s.absolute
}

// sweep ends the sessions that have timed out and forgets abandoned sign-ins.
func (s *sessions) sweep(now time.Time) {
	for k, sess := range s.byID {
		if s.expired(sess, now) {
			delete(s.byID, k)
		}
	}
	for k, p := range s.pending {
		if now.Sub(p.created) >= pendingLoginTTL {
			delete(s.pending, k)
		}
	}
}

func (s *sessions) endOldest() {
	var oldest string
	var at time.Time
	for k, sess := range s.byID {
		if oldest == "" || sess.lastSeen.Before(at) {
			oldest, at = k, sess.lastSeen
		}
	}
	delete(s.byID, oldest)
}

// startLogin records a sign-in sent to a provider and returns its state.
func (s *sessions) startLogin(p pendingLogin) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	// As many sign-ins in flight as sessions, at most: each one is a few hundred bytes.
	for len(s.pending) >= s.max {
		for k := range s.pending {
			delete(s.pending, k)
			break
		}
	}
	p.created = now
	state := randomToken()
	s.pending[key(state)] = p
	return state
}

// finishLogin returns and forgets the sign-in of state; each state is good once.
func (s *sessions) finishLogin(state string) (pendingLogin, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[key(state)]
	delete(s.pending, key(state))
	if !ok || s.now().Sub(p.created) >= pendingLoginTTL {
		return pendingLogin{}, false
	}
	return p, true
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
