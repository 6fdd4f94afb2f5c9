package admin

import (
	"fmt"
)

// Spec declares partnerships with their rules and collections, members, their memberships and
// grants: the arrangements a hub should serve. Apply makes the hub match it. It is the YAML file
// operators keep, and the JSON body of POST /admin/apply.
type Spec struct {
	Partnerships []PartnershipSpec `json:"partnerships,omitempty" yaml:"partnerships"`
	Members      []Member          `json:"members,omitempty" yaml:"members"`
	Memberships  []Membership      `json:"memberships,omitempty" yaml:"memberships"`
	Grants       []GrantSpec       `json:"grants,omitempty" yaml:"grants"`
}

// PartnershipSpec declares a partnership, its rules and its collections. A partnership declared
// without a policy has no rules: applying the file removes rules the hub holds for it.
type PartnershipSpec struct {
	Slug        string            `json:"slug" yaml:"slug"`
	Title       string            `json:"title" yaml:"title"`
	Description string            `json:"description,omitempty" yaml:"description"`
	Policy      PartnershipPolicy `json:"policy,omitzero" yaml:"policy"`
	Collections []CollectionSpec  `json:"collections,omitempty" yaml:"collections"`
}

// CollectionSpec declares a collection and its rules. The alias identifies it within its
// partnership, since the id is assigned by the hub when the collection is first created.
type CollectionSpec struct {
	Alias       string           `json:"alias" yaml:"alias"`
	Title       string           `json:"title" yaml:"title"`
	Description string           `json:"description,omitempty" yaml:"description"`
	MediaTypes  []string         `json:"media_types,omitempty" yaml:"media_types"`
	Policy      CollectionPolicy `json:"policy,omitzero" yaml:"policy"`
}

// GrantSpec declares what a member may do with a collection, named by partnership and alias.
type GrantSpec struct {
	Member      string `json:"member" yaml:"member"`
	Partnership string `json:"partnership" yaml:"partnership"`
	Collection  string `json:"collection" yaml:"collection"`
	Read        bool   `json:"read" yaml:"read"`
	Write       bool   `json:"write" yaml:"write"`
}

// check adds to bad everything wrong with the spec that can be told without the store.
func (s Spec) check(bad *problems) {
	slugs := map[string]bool{}
	for i, p := range s.Partnerships {
		where := fmt.Sprintf("partnerships[%d] (%s): ", i, p.Slug)
		checkPartnership(bad, where, p.Slug, p.Title, p.Description)
		checkPartnershipPolicy(bad, where+"policy: ", p.Policy)
		if slugs[p.Slug] {
			bad.add("%sslug %s is declared twice", where, p.Slug)
		}
		slugs[p.Slug] = true
		aliases := map[string]bool{}
		for j, c := range p.Collections {
			where := fmt.Sprintf("partnerships[%d].collections[%d] (%s/%s): ", i, j, p.Slug, c.Alias)
			if c.Alias == "" {
				bad.add("%salias is required: it is how the file names the collection", where)
			}
			checkCollection(bad, where, c.Alias, c.Title, c.Description, c.MediaTypes)
			checkCollectionPolicy(bad, where+"policy: ", c.Policy)
			if aliases[c.Alias] && c.Alias != "" {
				bad.add("%salias %s is declared twice in %s", where, c.Alias, p.Slug)
			}
			aliases[c.Alias] = true
		}
	}
	ids := map[string]bool{}
	for i, m := range s.Members {
		where := fmt.Sprintf("members[%d] (%s): ", i, m.ID)
		checkMember(bad, where, m)
		if ids[m.ID] {
			bad.add("%smember %s is declared twice", where, m.ID)
		}
		ids[m.ID] = true
	}
	memberships := map[[2]string]bool{}
	for i, m := range s.Memberships {
		where := fmt.Sprintf("memberships[%d] (%s in %s): ", i, m.Member, m.Partnership)
		checkMembership(bad, where, m)
		key := [2]string{m.Member, m.Partnership}
		if memberships[key] {
			bad.add("%sthe member's membership of this partnership is declared twice", where)
		}
		memberships[key] = true
	}
	grants := map[GrantSpec]bool{}
	for i, g := range s.Grants {
		where := fmt.Sprintf("grants[%d] (%s on %s/%s): ", i, g.Member, g.Partnership, g.Collection)
		checkName(bad, where+"member", g.Member)
		checkName(bad, where+"partnership", g.Partnership)
		checkName(bad, where+"collection", g.Collection)
		if !g.Read && !g.Write {
			bad.add("%sa grant must allow read, write or both", where)
		}
		key := GrantSpec{Member: g.Member, Partnership: g.Partnership, Collection: g.Collection}
		if grants[key] {
			bad.add("%sthe member's grant on this collection is declared twice", where)
		}
		grants[key] = true
	}
}
