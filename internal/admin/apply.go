package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"taxiihub/internal/store"
)

// Apply makes the hub match spec: it creates the partnerships, collections and members the spec
// declares and the hub lacks, updates those that differ, and creates or replaces grants. It never
// deletes anything the spec leaves out, so a spec covering part of a hub is safe to apply.
//
// The whole spec is checked, against itself and against the hub, before anything is changed; every
// problem found is reported at once. Applying the same spec twice changes nothing the second time
// and returns no changes. With dryRun, Apply reports the changes it would make and makes none.
func (s *Service) Apply(ctx context.Context, actor string, spec Spec, dryRun bool) (ApplyResult, error) {
	steps, err := s.plan(ctx, spec)
	if err != nil {
		return ApplyResult{}, err
	}
	res := ApplyResult{Changes: []Change{}, DryRun: dryRun}
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
}

func (s *Service) plan(ctx context.Context, spec Spec) ([]step, error) {
	p := &planner{s: s, collections: map[string]map[string]string{}, members: map[string]bool{}, grants: map[string][]store.Grant{}}
	spec.check(&p.bad)
	for _, ps := range spec.Partnerships {
		if err := p.partnership(ctx, ps); err != nil {
			return nil, err
		}
	}
	for _, m := range spec.Members {
		if err := p.member(ctx, m); err != nil {
			return nil, err
		}
	}
	for _, g := range spec.Grants {
		if err := p.grant(ctx, g); err != nil {
			return nil, err
		}
	}
	if err := p.bad.err("the spec"); err != nil {
		return nil, err
	}
	return p.steps, nil
}

func (p *planner) add(c Change, do func(ctx context.Context) error) {
	p.steps = append(p.steps, step{change: c, do: do})
}

func (p *planner) partnership(ctx context.Context, ps PartnershipSpec) error {
	st := p.s.store
	want := store.APIRoot{Slug: ps.Slug, Title: ps.Title, Description: ps.Description}
	have, err := st.APIRoot(ctx, ps.Slug)
	exists := err == nil
	switch {
	case errors.Is(err, store.ErrNotFound):
		p.add(Change{Action: "create", Kind: "partnership", Target: ps.Slug, Detail: ps.Title},
			func(ctx context.Context) error { return translate(st.CreateAPIRoot(ctx, want), "partnership", ps.Slug) })
	case err != nil:
		return fmt.Errorf("admin: partnership %s: %w", ps.Slug, err)
	default:
		if diff := differences(field("title", have.Title, want.Title), field("description", have.Description, want.Description)); diff != "" {
			p.add(Change{Action: "update", Kind: "partnership", Target: ps.Slug, Detail: diff},
				func(ctx context.Context) error { return translate(st.UpdateAPIRoot(ctx, want), "partnership", ps.Slug) })
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
		MediaTypes: slices.Clone(cs.MediaTypes)}
	target := slug + "/" + cs.Alias
	have, err := store.Collection{}, store.ErrNotFound
	if rootExists {
		have, err = st.Collection(ctx, slug, cs.Alias)
	}
	switch {
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
		diff := differences(
			field("title", have.Title, want.Title),
			field("description", have.Description, want.Description),
			field("media_types", strings.Join(have.MediaTypes, ","), strings.Join(want.MediaTypes, ",")))
		if diff != "" {
			p.add(Change{Action: "update", Kind: "collection", Target: target, Detail: diff},
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
	have, err := st.Member(ctx, m.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p.add(Change{Action: "create", Kind: "member", Target: m.ID, Detail: m.Name + " (" + m.Jurisdiction + ")"},
			func(ctx context.Context) error { return translate(st.CreateMember(ctx, want), "member", m.ID) })
	case err != nil:
		return fmt.Errorf("admin: member %s: %w", m.ID, err)
	default:
		diff := differences(field("name", have.Name, want.Name), field("jurisdiction", have.Jurisdiction, want.Jurisdiction),
			field("contact", have.Contact, want.Contact))
		if diff != "" {
			p.add(Change{Action: "update", Kind: "member", Target: m.ID, Detail: diff},
				func(ctx context.Context) error { return translate(st.UpdateMember(ctx, want), "member", m.ID) })
		}
	}
	return nil
}

func (p *planner) grant(ctx context.Context, g GrantSpec) error {
	target := g.Member + " on " + g.Partnership + "/" + g.Collection
	id, known, err := p.collectionID(ctx, g.Partnership, g.Collection)
	if err != nil {
		return err
	}
	if !known {
		p.bad.add("grant of %s: there is no collection %s/%s in the spec or the hub", g.Member, g.Partnership, g.Collection)
	}
	memberKnown := p.members[g.Member]
	if !memberKnown {
		_, err := p.s.store.Member(ctx, g.Member)
		switch {
		case errors.Is(err, store.ErrNotFound):
			p.bad.add("grant on %s/%s: there is no member %s in the spec or the hub", g.Partnership, g.Collection, g.Member)
		case err != nil:
			return fmt.Errorf("admin: member %s: %w", g.Member, err)
		default:
			memberKnown = true
		}
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
	action := "create"
	if ok {
		action = "update"
	}
	want := store.Grant{MemberID: g.Member, APIRoot: g.Partnership, CollectionID: id, Read: g.Read, Write: g.Write}
	st := p.s.store
	p.add(Change{Action: action, Kind: "grant", Target: target, Detail: rights(g.Read, g.Write)},
		func(ctx context.Context) error { return translate(st.PutGrant(ctx, want), "grant", target) })
	return nil
}

// collectionID resolves a partnership slug and alias to a collection id, from the spec or else
// from the hub; known is false when neither has it.
func (p *planner) collectionID(ctx context.Context, slug, alias string) (id string, known bool, err error) {
	if inSpec, ok := p.collections[slug]; ok {
		if id, ok := inSpec[alias]; ok {
			return id, true, nil
		}
	}
	c, err := p.s.store.Collection(ctx, slug, alias)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("admin: collection %s/%s: %w", slug, alias, err)
	}
	return c.ID, true, nil
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
