package policy

import (
	"strings"
	"testing"
	"time"

	"taxiihub/internal/store"
)

type partnerships map[string]struct {
	policy   store.PartnershipPolicy
	received time.Time // zero: never
}

func (p partnerships) Policy(root string) (store.PartnershipPolicy, bool) {
	e, ok := p[root]
	return e.policy, ok
}

func (p partnerships) LastReceived(root string) (time.Time, bool) {
	at := p[root].received
	return at, !at.IsZero()
}

func TestRestricting(t *testing.T) {
	closed := store.PartnershipPolicy{NoOnwardSharing: true}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ps := partnerships{
		"eu-china-cyber": {closed, t0.Add(time.Hour)},
		"eu-japan":       {store.PartnershipPolicy{}, t0.Add(time.Hour)},
		"other-closed":   {closed, time.Time{}},
	}
	const id = "indicator--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
	origin := func(root, member string, at time.Time) store.Origin {
		return store.Origin{Key: store.OriginKeyID(id), APIRoot: root, Member: member, At: at}
	}
	cases := []struct {
		name    string
		target  string
		origins []store.Origin
		refused bool
	}{
		{"received in a closed partnership", "eu-japan", []store.Origin{origin("eu-china-cyber", "cncert-cc", t0)}, true},
		{"received at the very time it was published", "eu-japan", []store.Origin{origin("eu-china-cyber", "cncert-cc", t0.Add(time.Hour))}, true},
		{"published after the member's last pull there", "eu-japan", []store.Origin{origin("eu-china-cyber", "cncert-cc", t0.Add(2*time.Hour))}, false},
		{"its own publication", "eu-japan", []store.Origin{origin("eu-china-cyber", "cert-eu", t0)}, false},
		{"received in an open partnership", "eu-china-cyber", []store.Origin{origin("eu-japan", "jpcert-cc", t0)}, false},
		{"back into the same partnership", "eu-china-cyber", []store.Origin{origin("eu-china-cyber", "cncert-cc", t0)}, false},
		{"a closed partnership it never pulled from", "eu-japan", []store.Origin{origin("other-closed", "x", t0)}, false},
		{"a partnership that no longer exists", "eu-japan", []store.Origin{origin("gone", "x", t0)}, false},
		{"never published", "eu-japan", nil, false},
	}
	for _, tc := range cases {
		got := Restricting(tc.target, "cert-eu", tc.origins, ps)
		if (len(got) > 0) != tc.refused {
			t.Errorf("%s: restricting %v, want refused %v", tc.name, got, tc.refused)
		}
	}
	refusal := OnwardRefusal()
	if refusal.Code != CodeOnwardSharing || strings.Contains(refusal.Message, "china") || !strings.Contains(refusal.Message, AttestParameter) {
		t.Errorf("refusal %q", refusal.String())
	}
}
