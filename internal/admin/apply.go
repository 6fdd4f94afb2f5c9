package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"taxiihub/internal/store"
)

// Apply makes the hub match spec: it creates the partnerships, collections and members the spec
// declares and the hub lacks, updates those that differ (rules included), and creates or replaces
// memberships and grants. It never deletes anything the spec leaves out, so a spec covering part of
// a hub is safe to apply.
//
// Jurisdiction rules are checked on the hub as it will be once the spec is applied: every member
// holding a grant or membership in a partnership, already or by the spec, must come from a
// jurisdiction the partnership admits. A partnership whose rule narrows is narrowed last, after
// members have moved and joined, so that no step breaks the rule on the way.
//
// A spec that would weaken rules the hub holds (see PartnershipWeakenings and the functions beside
// it) is refused, naming each weakening, unless confirmWeaken; a dry run lists them in Weakenings.
//
// The whole spec is checked, against itself and against the hub, before anything is changed; every
// problem found is reported at once. Applying the same spec twice changes nothing the second time
// and returns no changes. With dryRun, Apply reports the changes it would make and makes none.
//
// Once the spec is applied, Apply makes the members collections whole (KeepIdentities): the hub's
// own upkeep, which follows from the changes and is not listed among them.
func (s *Service) Apply(ctx context.Context, actor string, spec Spec, dryRun, confirmWeaken bool) (ApplyResult, error) {
	steps, weakenings, err := s.plan(ctx, spec)
	if err != nil {
		return ApplyResult{}, err
	}
	if !dryRun {
		if err := refuseWeakening("the hub", weakenings, confirmWeaken); err != nil {
			return ApplyResult{}, err
		}
	}
	res := ApplyResult{Changes: []Change{}, DryRun: dryRun, Weakenings: weakenings}
	for i, st := range steps {
		if !dryRun {
			if err := st.do(ctx); err != nil {
				return res, stopped(i, len(steps), err)
			}
			audited := st.change
			audited.Detail = strings.TrimPrefix(audited.Detail+", by apply", ", ")
			if err := s.record(ctx, actor, audited); err != nil {
				return res, stopped(i+1, len(steps), err)
			}
		}
		res.Changes = append(res.Changes, st.change)
	}
	if dryRun {
		return res, nil
	}
	if err := s.KeepIdentities(ctx); err != nil {
		return res, fmt.Errorf("admin: the spec is applied, but members' identities are not all served (apply again): %w", err)
	}
	return res, nil
}

// stopped says how far an apply got before it failed; another apply of the same spec picks up
// where it stopped.
func stopped(done, total int, err error) error {
	var ae *Error
	if errors.As(err, &ae) {
		return &Error{Kind: ae.Kind, Problems: ae.Problems, Err: err,
			Message: fmt.Sprintf("applied %d of %d changes, then: %s", done, total, ae.Message)}
	}
	return fmt.Errorf("admin: apply stopped after %d of %d changes: %w", done, total, err)
}

// step is one change Apply will make.
type step struct {
	change Change
	do     func(ctx context.Context) error
}

// planner compares a spec with the hub.
type planner struct {
	s     *Service
	steps []step
	bad   problems
	// collections maps partnership slug and alias to the id of every collection the spec declares,
	// existing or to be created.
	collections map[string]map[string]string
	// members holds the members the spec declares.
	members map[string]bool
	// grants caches the store's grants by member.
	grants map[string][]store.Grant
	// policies holds the policy every partnership the spec declares will have; jurisdictions the
	// jurisdiction every member it declares will have.
	policies      map[string]store.PartnershipPolicy
	jurisdictions map[string]string
	// joins lists the (member, partnership) pairs the spec's memberships and grants make.
	joins [][2]string
	// last are steps that must come after every other: the narrowing of jurisdiction rules.
	last []step
	// weakenings lists how the spec loosens rules the hub holds, each prefixed with what it is of.
	weakenings []string
}

// weakens notes the weakenings of one partnership, collection or membership.
func (p *planner) weakens(what string, ws []string) {
	for _, w := range ws {
		p.weakenings = append(p.weakenings, what+": "+w)
	}
}

func (s *Service) plan(ctx context.Context, spec Spec) ([]step, []string, error) {
	p := &planner{s: s, collections: map[string]map[string]string{}, members: map[string]bool{}, grants: map[string][]store.Grant{},
		policies: map[string]store.PartnershipPolicy{}, jurisdictions: map[string]string{}}
	// Planning goes on after problems in the spec itself, so that every problem is reported at once;
	// values that do not parse are planned with as their zero, and the plan is never carried out.
	spec.check(&p.bad)
	for _, ps := range spec.Partnerships {
		if err := p.partnership(ctx, ps); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range spec.Members {
		if err := p.member(ctx, m); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range spec.Memberships {
		if err := p.membership(ctx, m); err != nil {
			return nil, nil, err
		}
	}
	for _, g := range spec.Grants {
		if err := p.grant(ctx, g); err != nil {
			return nil, nil, err
		}
	}
	if err := p.checkJurisdictions(ctx); err != nil {
		return nil, nil, err
	}
	if err := p.bad.err("the spec"); err != nil {
		return nil, nil, err
	}
	return append(p.steps, p.last...), p.weakenings, nil
}

func (p *planner) add(c Change, do func(ctx context.Context) error) {
	p.steps = append(p.steps, step{change: c, do: do})
}

func (p *planner) partnership(ctx context.Context, ps PartnershipSpec) error {
	st := p.s.store
	want := store.APIRoot{Slug: ps.Slug, Title: ps.Title, Description: ps.Description, Policy: storePartnershipPolicy(ps.Policy)}
	p.policies[ps.Slug] = want.Policy
	have, err := st.APIRoot(ctx, ps.Slug)
	exists := err == nil
	switch {
	case errors.Is(err, store.ErrNotFound):
		p.add(Change{Action: "create", Kind: "partnership", Target: ps.Slug, Detail: ps.Title + "; " + describePartnershipPolicy(want.Policy)},
			func(ctx context.Context) error { return translate(st.CreateAPIRoot(ctx, want), "partnership", ps.Slug) })
	case err != nil:
		return fmt.Errorf("admin: partnership %s: %w", ps.Slug, err)
	default:
		p.weakens("partnership "+ps.Slug, PartnershipWeakenings(have.Policy, want.Policy))
		// The jurisdiction rule is first widened to admit both the members it admits now and those
		// it will admit, and narrowed to what the spec says only at the end.
		first := want
		first.Policy.Jurisdictions = widest(have.Policy.Jurisdictions, want.Policy.Jurisdictions)
		diff := differences(field("title", have.Title, first.Title), field("description", have.Description, first.Description),
			fieldDiff{name: "policy", different: !have.Policy.Equal(first.Policy)})
		if diff != "" {
			p.add(Change{Action: "update", Kind: "partnership", Target: ps.Slug, Detail: diff + "; " + describePartnershipPolicy(first.Policy),
				Before: stateOf(partnershipPolicyOf(have.Policy)), After: stateOf(partnershipPolicyOf(first.Policy))},
				func(ctx context.Context) error {
					return translate(st.UpdateAPIRoot(ctx, first), "partnership", ps.Slug)
				})
		}
		if !first.Policy.Equal(want.Policy) {
			p.last = append(p.last, step{
				change: Change{Action: "update", Kind: "partnership", Target: ps.Slug, Detail: "policy: " + describePartnershipPolicy(want.Policy),
					Before: stateOf(partnershipPolicyOf(first.Policy)), After: stateOf(partnershipPolicyOf(want.Policy))},
				do: func(ctx context.Context) error { return translate(st.UpdateAPIRoot(ctx, want), "partnership", ps.Slug) },
			})
		}
	}
	p.collections[ps.Slug] = map[string]string{}
	for _, cs := range ps.Collections {
		if err := p.collection(ctx, ps.Slug, exists, cs); err != nil {
			return err
		}
	}
	return nil
}

func (p *planner) collection(ctx context.Context, slug string, rootExists bool, cs CollectionSpec) error {
	st := p.s.store
	want := store.Collection{APIRoot: slug, Alias: cs.Alias, Title: cs.Title, Description: cs.Description,
		MediaTypes: canonicalMediaTypes(cs.MediaTypes), Policy: storeCollectionPolicy(cs.Policy)}
	target := slug + "/" + cs.Alias
	have, err := store.Collection{}, store.ErrNotFound
	if rootExists {
		have, err = st.Collection(ctx, slug, cs.Alias)
	}
	switch {
	case errors.Is(err, store.ErrNotFound) && cs.Alias == membersAlias:
		// The members collection the hub keeps in every partnership takes this alias.
		p.bad.add("collection %s: alias %q is the hub's members collection's; choose another", target, membersAlias)
		return nil // and grants naming it are judged against the hub
	case err == nil && have.Members:
		p.bad.add("collection %s: that is the hub's members collection, which the hub alone keeps; choose another alias", target)
		return nil
	case errors.Is(err, store.ErrNotFound):
		want.ID = uuid.NewString()
		p.add(Change{Action: "create", Kind: "collection", Target: target, Detail: cs.Title},
			func(ctx context.Context) error {
				return translate(st.CreateCollection(ctx, want), "collection", target)
			})
	case err != nil:
		return fmt.Errorf("admin: collection %s: %w", target, err)
	default:
		want.ID = have.ID
		p.weakens("collection "+target, CollectionWeakenings(have.Policy, want.Policy))
		diff := differences(
			field("title", have.Title, want.Title),
			field("description", have.Description, want.Description),
			field("media_types", strings.Join(have.MediaTypes, ","), strings.Join(want.MediaTypes, ",")),
			fieldDiff{name: "policy", different: !have.Policy.Equal(want.Policy)})
		if diff != "" {
			c := Change{Action: "update", Kind: "collection", Target: target, Detail: diff}
			if !have.Policy.Equal(want.Policy) {
				c.Before, c.After = stateOf(collectionPolicyOf(have.Policy)), stateOf(collectionPolicyOf(want.Policy))
			}
			p.add(c,
				func(ctx context.Context) error {
					return translate(st.UpdateCollection(ctx, want), "collection", target)
				})
		}
	}
	p.collections[slug][cs.Alias] = want.ID
	return nil
}

func (p *planner) member(ctx context.Context, m Member) error {
	st := p.s.store
	want := storeMember(m)
	p.members[m.ID] = true
	p.jurisdictions[m.ID] = m.Jurisdiction
	have, err := st.Member(ctx, m.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p.add(Change{Action: "create", Kind: "member", Target: m.ID, Detail: m.Name + " (" + m.Jurisdiction + ")"},
			func(ctx context.Context) error { return translate(st.CreateMember(ctx, want), "member", m.ID) })
	case err != nil:
		return fmt.Errorf("admin: member %s: %w", m.ID, err)
	default:
		diff := differences(field("name", have.Name, want.Name), field("jurisdiction", have.Jurisdiction, want.Jurisdiction),
			field("contact", have.Contact, want.Contact),
			field("identity provider", describeProvider(have.IdentityProvider), describeProvider(want.IdentityProvider)))
		if diff != "" {
			p.add(Change{Action: "update", Kind: "member", Target: m.ID, Detail: diff},
				func(ctx context.Context) error { return translate(st.UpdateMember(ctx, want), "member", m.ID) })
		}
	}
	return nil
}

func (p *planner) grant(ctx context.Context, g GrantSpec) error {
	target := g.Member + " on " + g.Partnership + "/" + g.Collection
	id, known, members, err := p.collectionID(ctx, g.Partnership, g.Collection)
	if err != nil {
		return err
	}
	if !known {
		p.bad.add("grant of %s: there is no collection %s/%s in the spec or the hub", g.Member, g.Partnership, g.Collection)
	}
	if members {
		p.bad.add("grant of %s on %s/%s: that is the hub's members collection, which every member holding a grant "+
			"in the partnership reads and none writes into; it takes no grants", g.Member, g.Partnership, g.Collection)
		return nil
	}
	memberKnown, err := p.memberKnown(ctx, g.Member)
	if err != nil {
		return err
	}
	if !memberKnown {
		p.bad.add("grant on %s/%s: there is no member %s in the spec or the hub", g.Partnership, g.Collection, g.Member)
	}
	if !known || !memberKnown {
		return nil
	}
	held, ok, err := p.heldGrant(ctx, g.Member, id)
	if err != nil {
		return err
	}
	if ok && held.Read == g.Read && held.Write == g.Write {
		return nil
	}
	p.joins = append(p.joins, [2]string{g.Member, g.Partnership})
	want := store.Grant{MemberID: g.Member, APIRoot: g.Partnership, CollectionID: id, Read: g.Read, Write: g.Write}
	state := Grant{Member: g.Member, Partnership: g.Partnership, Collection: id, Read: g.Read, Write: g.Write}
	if g.Collection != id {
		state.CollectionAlias = g.Collection // the spec names collections by alias, or by id
	}
	c := Change{Action: "create", Kind: "grant", Target: target, Detail: rights(g.Read, g.Write), After: stateOf(state)}
	if ok {
		before := state
		before.Read, before.Write = held.Read, held.Write
		c.Action, c.Before = "update", stateOf(before)
	}
	st := p.s.store
	p.add(c,
		func(ctx context.Context) error { return translate(st.PutGrant(ctx, want), "grant", target) })
	return nil
}

func (p *planner) membership(ctx context.Context, m Membership) error {
	st := p.s.store
	target := m.Member + " in " + m.Partnership
	memberKnown, err := p.memberKnown(ctx, m.Member)
	if err != nil {
		return err
	}
	if !memberKnown {
		p.bad.add("membership in %s: there is no member %s in the spec or the hub", m.Partnership, m.Member)
	}
	_, rootInSpec := p.policies[m.Partnership]
	rootKnown := rootInSpec
	if !rootInSpec {
		_, err := st.APIRoot(ctx, m.Partnership)
		switch {
		case errors.Is(err, store.ErrNotFound):
			p.bad.add("membership of %s: there is no partnership %s in the spec or the hub", m.Member, m.Partnership)
		case err != nil:
			return fmt.Errorf("admin: partnership %s: %w", m.Partnership, err)
		default:
			rootKnown = true
		}
	}
	if !memberKnown || !rootKnown {
		return nil
	}
	p.joins = append(p.joins, [2]string{m.Member, m.Partnership})
	want := storeMembership(m)
	have, err := st.Membership(ctx, m.Member, m.Partnership)
	held := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("admin: membership of %s in %s: %w", m.Member, m.Partnership, err)
	}
	if held && have == want {
		return nil
	}
	c := Change{Action: "create", Kind: "membership", Target: target, Detail: describeMembership(want), After: stateOf(membershipOf(want))}
	if held {
		c.Action, c.Before = "update", stateOf(membershipOf(have))
		p.weakens("membership "+target, MembershipWeakenings(have, want))
	}
	p.add(c,
		func(ctx context.Context) error { return translate(st.PutMembership(ctx, want), "membership", target) })
	return nil
}

// memberKnown reports whether the spec or the hub has the member.
func (p *planner) memberKnown(ctx context.Context, id string) (bool, error) {
	if p.members[id] {
		return true, nil
	}
	_, err := p.s.store.Member(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("admin: member %s: %w", id, err)
	}
	return true, nil
}

// checkJurisdictions adds a problem for every member that, once the spec is applied, would hold a
// grant or membership in a partnership whose rule excludes its jurisdiction.
func (p *planner) checkJurisdictions(ctx context.Context) error {
	st := p.s.store
	roots, err := st.APIRoots(ctx)
	if err != nil {
		return fmt.Errorf("admin: list partnerships: %w", err)
	}
	// The policy each partnership will have: the spec's, else the hub's.
	policies := maps.Clone(p.policies)
	for _, r := range roots {
		if _, ok := policies[r.Slug]; !ok {
			policies[r.Slug] = r.Policy
		}
	}
	joins := slices.Clone(p.joins)
	for _, r := range roots {
		if len(policies[r.Slug].Jurisdictions) == 0 {
			continue
		}
		ids, err := p.s.participants(ctx, r.Slug)
		if err != nil {
			return err
		}
		for _, id := range ids {
			joins = append(joins, [2]string{id, r.Slug})
		}
	}
	// By partnership, then member, so that problems come out in a stable order.
	slices.SortFunc(joins, func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[1], b[1]), strings.Compare(a[0], b[0]))
	})
	for _, j := range slices.Compact(joins) {
		member, root := j[0], j[1]
		policy := policies[root]
		if len(policy.Jurisdictions) == 0 {
			continue
		}
		jurisdiction, ok := p.jurisdictions[member]
		if !ok {
			m, err := st.Member(ctx, member)
			if err != nil {
				// An unknown member is reported where it is named.
				continue
			}
			jurisdiction = m.Jurisdiction
		}
		if !policy.AllowsJurisdiction(jurisdiction) {
			p.bad.add("member %s (%s) would take part in partnership %s, which admits members from %s only",
				member, jurisdiction, root, strings.Join(policy.Jurisdictions, ", "))
		}
	}
	return nil
}

// widest is the jurisdiction rule admitting everyone either rule admits: no rule if either has none.
func widest(a, b []string) []string {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	return store.SortedSet(append(slices.Clone(a), b...))
}

// collectionID resolves a partnership slug and alias to a collection id, from the spec or else
// from the hub; known is false when neither has it, members true when it is the hub's members
// collection.
func (p *planner) collectionID(ctx context.Context, slug, alias string) (id string, known, members bool, err error) {
	if inSpec, ok := p.collections[slug]; ok {
		if id, ok := inSpec[alias]; ok {
			return id, true, false, nil
		}
	}
	c, err := p.s.store.Collection(ctx, slug, alias)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", false, false, nil
	case err != nil:
		return "", false, false, fmt.Errorf("admin: collection %s/%s: %w", slug, alias, err)
	}
	return c.ID, true, c.Members, nil
}

func (p *planner) heldGrant(ctx context.Context, memberID, collectionID string) (store.Grant, bool, error) {
	grants, ok := p.grants[memberID]
	if !ok {
		var err error
		grants, err = p.s.store.Grants(ctx, memberID)
		if err != nil {
			return store.Grant{}, false, fmt.Errorf("admin: grants of %s: %w", memberID, err)
		}
		p.grants[memberID] = grants
	}
	for _, g := range grants {
		if g.CollectionID == collectionID {
			return g, true, nil
		}
	}
	return store.Grant{}, false, nil
}

// translate turns a store refusal met while applying into an operator's error: something changed
// the hub between planning and applying, and applying the spec again settles it.
func translate(err error, kind, target string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrConflict):
		return conflict(err, "%s %s was created meanwhile by someone else; apply again", kind, target)
	case errors.Is(err, store.ErrNotFound):
		return notFound(err, "%s %s, or what it belongs to, was removed meanwhile; apply again", kind, target)
	case errors.Is(err, store.ErrJurisdiction):
		return conflict(err, "%s %s would break a partnership's jurisdiction rule, after a change made meanwhile; apply again", kind, target)
	default:
		return fmt.Errorf("admin: %s %s: %w", kind, target, err)
	}
}

type fieldDiff struct {
	name      string
	different bool
}

func field(name, have, want string) fieldDiff { return fieldDiff{name: name, different: have != want} }

// differences names the fields that differ, or is empty when none does.
func differences(fields ...fieldDiff) string {
	var names []string
	for _, f := range fields {
		if f.different {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ", ")
}

// describeProvider is how a change of a member's identity provider is written in the audit trail.
func describeProvider(p *store.IdentityProvider) string {
	if p == nil {
		return "none"
	}
	secret := "file " + p.ClientSecretFile
	if p.ClientSecretEnv != "" {
		secret = "environment " + p.ClientSecretEnv
	}
	return p.Issuer + " client " + p.ClientID + ", secret from " + secret + ", roles in " + p.RolesClaim
}
