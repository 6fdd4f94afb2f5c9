package console

import (
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestSessionsEndWhenIdleOrOld(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	s := newSessions(10, 30*time.Minute, 2*time.Hour, c.now)
	id := s.open(session{member: "cert-eu"})
	c.t = c.t.Add(29 * time.Minute)
	if _, ok := s.get(id); !ok {
		t.Fatal("a session used 29 minutes ago ended")
	}
	// Used every 29 minutes, it still ends two hours after sign-in.
	for range 3 {
		c.t = c.t.Add(29 * time.Minute)
		if _, ok := s.get(id); !ok {
			t.Fatalf("session ended at %v, before its absolute timeout", c.t)
		}
	}
	c.t = c.t.Add(4 * time.Minute) // 2h after sign-in
	if _, ok := s.get(id); ok {
		t.Error("a session outlived its absolute timeout")
	}
	other := s.open(session{member: "cert-eu"})
	c.t = c.t.Add(30 * time.Minute)
	if _, ok := s.get(other); ok {
		t.Error("a session unused for the idle timeout is still open")
	}
}

func TestSessionsAreBoundedAndEndTheLeastRecentlyUsed(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	s := newSessions(2, time.Hour, 12*time.Hour, c.now)
	first := s.open(session{member: "a"})
	c.t = c.t.Add(time.Minute)
	second := s.open(session{member: "b"})
	c.t = c.t.Add(time.Minute)
	s.get(first) // the first is now the more recently used
	c.t = c.t.Add(time.Minute)
	third := s.open(session{member: "c"})
	if len(s.byID) != 2 {
		t.Fatalf("%d sessions held, want the bound of 2", len(s.byID))
	}
	if _, ok := s.get(second); ok {
		t.Error("the least recently used session was kept")
	}
	for _, id := range []string{first, third} {
		if _, ok := s.get(id); !ok {
			t.Error("a recently used session was ended")
		}
	}
	// Neither the cookie's value nor the CSRF token is a key a memory dump would give away as is.
	if _, held := s.byID[third]; held {
		t.Error("sessions are kept by the cookie's value itself")
	}
}

func TestSignInStatesAreGoodOnceAndExpire(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	s := newSessions(10, time.Hour, 12*time.Hour, c.now)
	state := s.startLogin(pendingLogin{provider: "cert-eu", nonce: "n", verifier: "v"})
	if p, ok := s.finishLogin(state); !ok || p.provider != "cert-eu" || p.verifier != "v" {
		t.Fatalf("finish a sign-in: %+v, %v", p, ok)
	}
	if _, ok := s.finishLogin(state); ok {
		t.Error("a sign-in state was accepted twice")
	}
	late := s.startLogin(pendingLogin{provider: "cert-eu"})
	c.t = c.t.Add(pendingLoginTTL)
	if _, ok := s.finishLogin(late); ok {
		t.Error("a sign-in state was accepted after it expired")
	}
}

func TestRolesComeOnlyFromKnownNames(t *testing.T) {
	r := rolesOf(stringsOf([]any{"analyst", "admin", 7, "operator"}))
	if !r.analyst || !r.operator || r.reviewer || r.memberAdmin {
		t.Errorf("roles of a list: %+v", r)
	}
	if r := rolesOf(stringsOf("reviewer member-admin")); !r.reviewer || !r.memberAdmin || r.analyst {
		t.Errorf("roles of a space-separated string: %+v", r)
	}
	if r := rolesOf(stringsOf(map[string]any{"analyst": true})); r != (roles{}) {
		t.Errorf("roles of an object: %+v, want none", r)
	}
}
