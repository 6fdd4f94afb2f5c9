package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"taxiihub/internal/store"
)

// Personal-data modes as operators write them.
const (
	PersonalDataAllow  = "allow"
	PersonalDataReject = "reject"
	PersonalDataStrip  = "strip"
)

// What a collection does with objects without a TLP marking, as operators write it.
const (
	UnmarkedClear  = "clear"
	UnmarkedRefuse = "refuse"
)

// Who releases what is posted to a collection, as operators write it.
const (
	ReviewNone        = "none"
	ReviewOwnMember   = "own-member"
	ReviewPartnership = "partnership"
)

// Bounds of a collection's review timeout: under a minute no person could review anything, and
// objects held for over a year would be intelligence nobody wants any more, kept in the store.
const (
	MinReviewTimeout = time.Minute
	MaxReviewTimeout = 365 * 24 * time.Hour
)

// Bounds of a collection's retention: the hub sweeps hourly, so a shorter retention would not be
// kept to; beyond ten years an arrangement is keeping data for good and should say so by setting
// none.
const (
	MinRetention = time.Hour
	MaxRetention = 3650 * 24 * time.Hour
)

// STIX names: object types are 3 to 250 lower-case letters, digits and hyphens, not starting or
// ending with a hyphen; property names are 3 to 250 ASCII letters, digits and underscores.
var (
	typePattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$`)
	propertyPattern = regexp.MustCompile(`^[A-Za-z0-9_]{3,250}$`)
	// A segment of an allowed property path: a property name, a dictionary key or an extension's
	// key (extension-definition--<uuid>, or a predefined name ending -ext).
	pathSegmentPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,250}$`)
)

// MaxReviewers bounds the moderators one partnership names: a handful of release authorities, not
// a membership list.
const MaxReviewers = 50

// maxAllowedProperties bounds the paths one collection's allow-list holds, so that judging an
// object against it stays cheap.
const maxAllowedProperties = 1000

// coreProperties are properties every object has; denying one would refuse everything.
var coreProperties = []string{"type", "id", "spec_version"}

func checkPartnershipPolicy(p *problems, where string, pol PartnershipPolicy) {
	switch pol.PersonalData {
	case "", PersonalDataAllow, PersonalDataReject, PersonalDataStrip:
	default:
		p.add("%spersonal_data %q must be allow, reject or strip", where, pol.PersonalData)
	}
	for _, j := range pol.Jurisdictions {
		checkJurisdiction(p, where+"jurisdictions: ", j)
	}
	for _, m := range pol.Reviewers {
		checkName(p, where+"reviewers: member", m)
	}
	if len(pol.Reviewers) > MaxReviewers {
		p.add("%sreviewers: %d members; a partnership names at most %d", where, len(pol.Reviewers), MaxReviewers)
	}
}

func checkCollectionPolicy(p *problems, where string, pol CollectionPolicy) {
	for _, t := range pol.AllowedTypes {
		if !typePattern.MatchString(t) {
			p.add("%sallowed type %q is not a STIX object type name", where, t)
		}
	}
	for _, name := range pol.DeniedProperties {
		switch {
		case !propertyPattern.MatchString(name):
			p.add("%sdenied property %q is not a STIX property name", where, name)
		case slices.Contains(coreProperties, name):
			p.add("%sdenied property %q is one every object has; list the object types allowed instead", where, name)
		}
	}
	if _, err := store.ParseTLP(pol.TLPMax); err != nil {
		p.add("%stlp_max: %v", where, err)
	}
	switch pol.Unmarked {
	case "", UnmarkedClear, UnmarkedRefuse:
	default:
		p.add("%sunmarked %q must be clear or refuse", where, pol.Unmarked)
	}
	switch pol.Review {
	case "", ReviewNone, ReviewOwnMember, ReviewPartnership:
	default:
		p.add("%sreview %q must be none, own-member or partnership", where, pol.Review)
	}
	if pol.ReviewTimeout != "" {
		if pol.Review == "" || pol.Review == ReviewNone {
			p.add("%sreview_timeout %q needs a review rule (own-member or partnership)", where, pol.ReviewTimeout)
		} else if _, err := parseReviewTimeout(pol.ReviewTimeout); err != nil {
			p.add("%sreview_timeout: %v", where, err)
		}
	}
	if pol.Retention != "" {
		if _, err := parseRetention(pol.Retention); err != nil {
			p.add("%sretention: %v", where, err)
		}
	}
	count := 0
	for _, typ := range slices.Sorted(maps.Keys(pol.AllowedProperties)) {
		if !typePattern.MatchString(typ) {
			p.add("%sallowed_properties: %q is not a STIX object type name", where, typ)
		}
		for _, path := range pol.AllowedProperties[typ] {
			count++
			for seg := range strings.SplitSeq(path, ".") {
				if !pathSegmentPattern.MatchString(seg) {
					p.add("%sallowed_properties: %s: %q is not a property name or a dotted path of them", where, typ, path)
					break
				}
			}
		}
	}
	if count > maxAllowedProperties {
		p.add("%sallowed_properties: %d paths; a collection allows at most %d", where, count, maxAllowedProperties)
	}
}

func checkMembership(p *problems, where string, m Membership) {
	checkName(p, where+"member", m.Member)
	checkName(p, where+"partnership", m.Partnership)
	if !store.Role(m.Role).Valid() {
		p.add("%srole %q must be publisher, reader or both", where, m.Role)
	}
	if _, err := store.ParseTLP(m.Clearance); err != nil {
		p.add("%sclearance: %v", where, err)
	}
}

// storePartnershipPolicy converts a policy that passed checkPartnershipPolicy.
func storePartnershipPolicy(p PartnershipPolicy) store.PartnershipPolicy {
	mode := store.PersonalDataMode(p.PersonalData)
	if p.PersonalData == PersonalDataAllow {
		mode = store.PersonalDataAllow
	}
	return store.PartnershipPolicy{PersonalData: mode, Jurisdictions: store.SortedSet(p.Jurisdictions),
		NoOnwardSharing: p.NoOnwardSharing, Reviewers: store.SortedSet(p.Reviewers)}
}

func partnershipPolicyOf(p store.PartnershipPolicy) PartnershipPolicy {
	mode := string(p.PersonalData)
	if mode == "" {
		mode = PersonalDataAllow
	}
	return PartnershipPolicy{PersonalData: mode, Jurisdictions: p.Jurisdictions, NoOnwardSharing: p.NoOnwardSharing,
		Reviewers: p.Reviewers}
}

// storeCollectionPolicy converts a policy that passed checkCollectionPolicy.
func storeCollectionPolicy(p CollectionPolicy) store.CollectionPolicy {
	tlp, _ := store.ParseTLP(p.TLPMax)
	unmarked := store.UnmarkedClear
	if p.Unmarked == UnmarkedRefuse {
		unmarked = store.UnmarkedRefuse
	}
	review := store.ReviewRule(p.Review)
	if p.Review == ReviewNone {
		review = store.ReviewNone
	}
	var timeout time.Duration
	if review != store.ReviewNone && p.ReviewTimeout != "" {
		timeout, _ = parseReviewTimeout(p.ReviewTimeout)
	}
	var retention time.Duration
	if p.Retention != "" {
		retention, _ = parseRetention(p.Retention)
	}
	return store.CollectionPolicy{AllowedTypes: store.SortedSet(p.AllowedTypes),
		DeniedProperties: store.SortedSet(p.DeniedProperties), MaxTLP: tlp, Unmarked: unmarked,
		AllowedProperties: store.SortedProperties(p.AllowedProperties), Review: review, ReviewTimeout: timeout,
		Retention: retention}
}

// collectionPolicyOf is a collection's policy as operators write it. A collection without review
// names none of it, so that the state of rules recorded before review existed reads the same.
func collectionPolicyOf(p store.CollectionPolicy) CollectionPolicy {
	out := CollectionPolicy{AllowedTypes: p.AllowedTypes, DeniedProperties: p.DeniedProperties, TLPMax: p.MaxTLP.String(),
		Unmarked: unmarkedOf(p.Unmarked), AllowedProperties: p.AllowedProperties}
	if p.Review != store.ReviewNone {
		out.Review = string(p.Review)
		out.ReviewTimeout = FormatReviewTimeout(p.EffectiveReviewTimeout())
	}
	if p.Retention > 0 {
		out.Retention = FormatReviewTimeout(p.Retention)
	}
	return out
}

// parseReviewTimeout reads a review timeout: whole days ("7d"), which Go durations cannot say, or
// a Go duration ("36h", "90m"), within MinReviewTimeout and MaxReviewTimeout.
func parseReviewTimeout(s string) (time.Duration, error) {
	return parseDays(s, MinReviewTimeout, MaxReviewTimeout)
}

// parseRetention reads a retention as parseReviewTimeout reads a timeout, within MinRetention and
// MaxRetention.
func parseRetention(s string) (time.Duration, error) {
	return parseDays(s, MinRetention, MaxRetention)
}

// parseDays reads whole days ("7d") or a Go duration ("36h") between least and most.
func parseDays(s string, least, most time.Duration) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days (7d) nor a duration (36h)", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a number of days (7d) nor a duration (36h)", s)
		}
	}
	if d < least || d > most {
		return 0, fmt.Errorf("%q is outside %s to %s", s, FormatReviewTimeout(least), FormatReviewTimeout(most))
	}
	return d, nil
}

// FormatReviewTimeout writes a review timeout as operators do: in days when it is whole days.
func FormatReviewTimeout(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return strconv.Itoa(int(d/day)) + "d"
	}
	return d.String()
}

// unmarkedOf names a collection's unmarked rule as operators write it; the default is named too,
// so that what the hub does with unmarked objects is always shown.
func unmarkedOf(u store.UnmarkedRule) string {
	if u == store.UnmarkedRefuse {
		return UnmarkedRefuse
	}
	return UnmarkedClear
}

// storeMembership converts a membership that passed checkMembership.
func storeMembership(m Membership) store.Membership {
	clearance, _ := store.ParseTLP(m.Clearance)
	return store.Membership{MemberID: m.Member, APIRoot: m.Partnership, Role: store.Role(m.Role), Clearance: clearance}
}

func membershipOf(m store.Membership) Membership {
	return Membership{Member: m.MemberID, Partnership: m.APIRoot, Role: string(m.Role), Clearance: m.Clearance.String()}
}

// describePartnershipPolicy is a policy in a few words, for changes and the audit trail.
func describePartnershipPolicy(p store.PartnershipPolicy) string {
	parts := []string{"personal data " + partnershipPolicyOf(p).PersonalData}
	if len(p.Jurisdictions) > 0 {
		parts = append(parts, "members from "+strings.Join(p.Jurisdictions, ", ")+" only")
	}
	if p.NoOnwardSharing {
		parts = append(parts, "no onward sharing")
	}
	if len(p.Reviewers) > 0 {
		parts = append(parts, "moderated by the reviewers of "+strings.Join(p.Reviewers, ", "))
	}
	return strings.Join(parts, "; ")
}

func describeCollectionPolicy(p store.CollectionPolicy) string {
	var parts []string
	if len(p.AllowedTypes) > 0 {
		parts = append(parts, "types "+strings.Join(p.AllowedTypes, ", ")+" only")
	}
	if len(p.DeniedProperties) > 0 {
		parts = append(parts, "properties "+strings.Join(p.DeniedProperties, ", ")+" refused")
	}
	if p.MaxTLP != store.TLPNone {
		parts = append(parts, "up to TLP:"+strings.ToUpper(p.MaxTLP.String()))
	}
	if p.Unmarked == store.UnmarkedRefuse {
		parts = append(parts, "unmarked objects refused")
	}
	if p.Review != store.ReviewNone {
		parts = append(parts, "released by a reviewer ("+string(p.Review)+", expires after "+
			FormatReviewTimeout(p.EffectiveReviewTimeout())+")")
	}
	if p.Retention > 0 {
		parts = append(parts, "objects kept "+FormatReviewTimeout(p.Retention)+" after they are added")
	}
	if len(p.AllowedProperties) > 0 {
		var types []string
		for _, typ := range slices.Sorted(maps.Keys(p.AllowedProperties)) {
			types = append(types, typ+" "+strings.Join(p.AllowedProperties[typ], " "))
		}
		parts = append(parts, "properties allowed: "+strings.Join(types, ", "))
	}
	if len(parts) == 0 {
		return "no rules"
	}
	return strings.Join(parts, "; ")
}

func describeMembership(m store.Membership) string {
	clearance := "any TLP"
	if m.Clearance != store.TLPNone {
		clearance = "up to TLP:" + strings.ToUpper(m.Clearance.String())
	}
	return string(m.Role) + ", " + clearance
}

// SetPartnershipPolicy replaces a partnership's policy. It refuses a jurisdiction rule that would
// exclude a member already holding a grant or membership there, naming them: remove them first.
// A policy that weakens the rules (see PartnershipWeakenings) is refused unless confirmWeaken.
func (s *Service) SetPartnershipPolicy(ctx context.Context, actor, slug string, p PartnershipPolicy, confirmWeaken bool) (Partnership, error) {
	return s.changePartnershipPolicy(ctx, actor, slug, func(PartnershipPolicy) (PartnershipPolicy, error) { return p, nil }, confirmWeaken)
}

// PatchPartnershipPolicy changes only the rules the patch names, as SetPartnershipPolicy would.
func (s *Service) PatchPartnershipPolicy(ctx context.Context, actor, slug string, patch Patch, confirmWeaken bool) (Partnership, error) {
	return s.changePartnershipPolicy(ctx, actor, slug, func(have PartnershipPolicy) (PartnershipPolicy, error) {
		return applyPatch(have, patch)
	}, confirmWeaken)
}

func (s *Service) changePartnershipPolicy(ctx context.Context, actor, slug string,
	change func(have PartnershipPolicy) (PartnershipPolicy, error), confirmWeaken bool) (Partnership, error) {
	root, err := s.apiRoot(ctx, slug)
	if err != nil {
		return Partnership{}, err
	}
	p, err := change(partnershipPolicyOf(root.Policy))
	if err != nil {
		return Partnership{}, err
	}
	var bad problems
	checkPartnershipPolicy(&bad, "", p)
	if err := bad.err("the policy"); err != nil {
		return Partnership{}, err
	}
	want := storePartnershipPolicy(p)
	if root.Policy.Equal(want) {
		return partnershipOf(root), nil
	}
	// Members left outside are a refusal no confirmation lifts, so they are reported first.
	if outside, err := s.outsiders(ctx, slug, want); err != nil {
		return Partnership{}, err
	} else if len(outside) > 0 {
		return Partnership{}, &Error{Kind: Conflict, Problems: outside,
			Message: fmt.Sprintf("partnership %s has members from outside %s; remove their grants and memberships first",
				slug, strings.Join(want.Jurisdictions, ", "))}
	}
	if err := refuseWeakening("partnership "+slug, PartnershipWeakenings(root.Policy, want), confirmWeaken); err != nil {
		return Partnership{}, err
	}
	before := root.Policy
	root.Policy = want
	err = s.store.UpdateAPIRoot(ctx, root)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Partnership{}, notFound(err, "there is no partnership %s", slug)
	case errors.Is(err, store.ErrJurisdiction):
		return Partnership{}, conflict(err, "a member from outside %s joined partnership %s meanwhile; look again",
			strings.Join(want.Jurisdictions, ", "), slug)
	case err != nil:
		return Partnership{}, fmt.Errorf("admin: set the policy of %s: %w", slug, err)
	}
	return partnershipOf(root), s.record(ctx, actor, Change{Action: "update", Kind: "partnership", Target: slug,
		Detail: "policy: " + describePartnershipPolicy(want),
		Before: stateOf(partnershipPolicyOf(before)), After: stateOf(partnershipPolicyOf(want))})
}

// outsiders lists the members holding a grant or membership in a partnership whose jurisdiction
// policy excludes, as "member (jurisdiction)".
func (s *Service) outsiders(ctx context.Context, slug string, policy store.PartnershipPolicy) ([]string, error) {
	if len(policy.Jurisdictions) == 0 {
		return nil, nil
	}
	ids, err := s.participants(ctx, slug)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		m, err := s.member(ctx, id)
		if err != nil {
			return nil, err
		}
		if !policy.AllowsJurisdiction(m.Jurisdiction) {
			out = append(out, fmt.Sprintf("%s (%s)", m.ID, m.Jurisdiction))
		}
	}
	return out, nil
}

// participants lists the members holding a grant or membership in a partnership, sorted.
func (s *Service) participants(ctx context.Context, slug string) ([]string, error) {
	colls, err := s.store.Collections(ctx, slug)
	if err != nil {
		return nil, fmt.Errorf("admin: collections of %s: %w", slug, err)
	}
	var ids []string
	for _, c := range colls {
		grants, err := s.store.CollectionGrants(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("admin: grants on %s/%s: %w", slug, c.ID, err)
		}
		for _, g := range grants {
			ids = append(ids, g.MemberID)
		}
	}
	ms, err := s.store.Memberships(ctx, slug)
	if err != nil {
		return nil, fmt.Errorf("admin: memberships of %s: %w", slug, err)
	}
	for _, m := range ms {
		ids = append(ids, m.MemberID)
	}
	return store.SortedSet(ids), nil
}

// SetCollectionPolicy replaces the policy of a collection, named by id or alias. It applies to
// objects added from then on; objects already stored stay, and readers' clearances still apply. A
// policy that weakens the rules (see CollectionWeakenings) is refused unless confirmWeaken.
func (s *Service) SetCollectionPolicy(ctx context.Context, actor, slug, ref string, p CollectionPolicy, confirmWeaken bool) (Collection, error) {
	return s.changeCollectionPolicy(ctx, actor, slug, ref, func(CollectionPolicy) (CollectionPolicy, error) { return p, nil }, confirmWeaken)
}

// PatchCollectionPolicy changes only the rules the patch names, as SetCollectionPolicy would.
func (s *Service) PatchCollectionPolicy(ctx context.Context, actor, slug, ref string, patch Patch, confirmWeaken bool) (Collection, error) {
	return s.changeCollectionPolicy(ctx, actor, slug, ref, func(have CollectionPolicy) (CollectionPolicy, error) {
		return applyPatch(have, patch)
	}, confirmWeaken)
}

func (s *Service) changeCollectionPolicy(ctx context.Context, actor, slug, ref string,
	change func(have CollectionPolicy) (CollectionPolicy, error), confirmWeaken bool) (Collection, error) {
	c, err := s.collection(ctx, slug, ref)
	if err != nil {
		return Collection{}, err
	}
	if c.Members {
		return Collection{}, refusedMembersCollection(slug, "it holds identities only, and no member writes into it")
	}
	p, err := change(collectionPolicyOf(c.Policy))
	if err != nil {
		return Collection{}, err
	}
	var bad problems
	checkCollectionPolicy(&bad, "", p)
	if err := bad.err("the policy"); err != nil {
		return Collection{}, err
	}
	want := storeCollectionPolicy(p)
	if c.Policy.Equal(want) {
		return collectionOf(c), nil
	}
	name := collectionName(slug, c.ID, c.Alias)
	if err := refuseWeakening("collection "+name, CollectionWeakenings(c.Policy, want), confirmWeaken); err != nil {
		return Collection{}, err
	}
	before := c.Policy
	c.Policy = want
	err = s.store.UpdateCollection(ctx, c)
	if errors.Is(err, store.ErrNotFound) {
		return Collection{}, notFound(err, "there is no collection %s in partnership %s", ref, slug)
	}
	if err != nil {
		return Collection{}, fmt.Errorf("admin: set the policy of %s/%s: %w", slug, c.ID, err)
	}
	return collectionOf(c), s.record(ctx, actor, Change{Action: "update", Kind: "collection",
		Target: name, Detail: "policy: " + describeCollectionPolicy(want),
		Before: stateOf(collectionPolicyOf(before)), After: stateOf(collectionPolicyOf(want))})
}

// PutMembership gives a member a role and clearance in a partnership, replacing the one it held. A
// partnership with a jurisdiction rule refuses members from elsewhere. When the member already held
// exactly this membership nothing changes, and nothing is recorded. A membership that widens the
// member's role or raises its clearance (see MembershipWeakenings) is refused unless confirmWeaken.
func (s *Service) PutMembership(ctx context.Context, actor string, m Membership, confirmWeaken bool) (MembershipResult, error) {
	return s.changeMembership(ctx, actor, m.Member, m.Partnership, func(Membership) (Membership, error) { return m, nil }, confirmWeaken)
}

// PatchMembership changes only what the patch names (role, clearance) of a member's membership of a
// partnership, as PutMembership would; a member without one gets one, which needs a role.
func (s *Service) PatchMembership(ctx context.Context, actor, memberID, slug string, patch Patch, confirmWeaken bool) (MembershipResult, error) {
	return s.changeMembership(ctx, actor, memberID, slug, func(have Membership) (Membership, error) {
		m, err := applyPatch(have, patch)
		if err == nil && (m.Member != memberID || m.Partnership != slug) {
			err = &Error{Kind: Invalid, Message: "a membership patch changes role and clearance only; the member and partnership are in its path"}
		}
		return m, err
	}, confirmWeaken)
}

func (s *Service) changeMembership(ctx context.Context, actor, memberID, slug string,
	change func(have Membership) (Membership, error), confirmWeaken bool) (MembershipResult, error) {
	have, err := s.store.Membership(ctx, memberID, slug)
	held := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return MembershipResult{}, fmt.Errorf("admin: membership of %s in %s: %w", memberID, slug, err)
	}
	current := Membership{Member: memberID, Partnership: slug}
	if held {
		current = membershipOf(have)
	} else {
		have = store.DefaultMembership(memberID, slug)
	}
	m, err := change(current)
	if err != nil {
		return MembershipResult{}, err
	}
	if !held && m.Role == "" {
		return MembershipResult{}, &Error{Kind: Invalid, Message: fmt.Sprintf(
			"member %s has no membership in %s; a new one needs a role (publisher, reader or both)", memberID, slug)}
	}
	var bad problems
	checkMembership(&bad, "", m)
	if err := bad.err("the membership"); err != nil {
		return MembershipResult{}, err
	}
	member, err := s.member(ctx, m.Member)
	if err != nil {
		return MembershipResult{}, err
	}
	root, err := s.apiRoot(ctx, m.Partnership)
	if err != nil {
		return MembershipResult{}, err
	}
	if !root.Policy.AllowsJurisdiction(member.Jurisdiction) {
		return MembershipResult{}, refusedJurisdiction(nil, member, root)
	}
	want := storeMembership(m)
	out := membershipOf(want)
	if held && have == want {
		return MembershipResult{Membership: out}, nil
	}
	target := m.Member + " in " + m.Partnership
	if err := refuseWeakening("membership "+target, MembershipWeakenings(have, want), confirmWeaken); err != nil {
		return MembershipResult{}, err
	}
	err = s.store.PutMembership(ctx, want)
	switch {
	case errors.Is(err, store.ErrJurisdiction):
		return MembershipResult{}, refusedJurisdiction(err, member, root)
	case errors.Is(err, store.ErrNotFound):
		return MembershipResult{}, notFound(err, "member %s or partnership %s no longer exists", m.Member, m.Partnership)
	case err != nil:
		return MembershipResult{}, fmt.Errorf("admin: membership of %s in %s: %w", m.Member, m.Partnership, err)
	}
	c := Change{Action: "create", Kind: "membership", Target: target, Detail: describeMembership(want), After: stateOf(out)}
	if held {
		c.Action, c.Before = "update", stateOf(membershipOf(have))
	}
	res := MembershipResult{Membership: out, Changed: true}
	if err := s.record(ctx, actor, c); err != nil {
		return res, err
	}
	return res, s.keepIdentity(ctx, m.Member)
}

// refusedJurisdiction is the refusal of a member joining a partnership that excludes its jurisdiction.
func refusedJurisdiction(cause error, m store.Member, root store.APIRoot) error {
	return &Error{Kind: Conflict, Err: cause, Message: fmt.Sprintf(
		"member %s is established in %s, and partnership %s admits members from %s only",
		m.ID, m.Jurisdiction, root.Slug, strings.Join(root.Policy.Jurisdictions, ", "))}
}

// RemoveMembership removes a member's membership of a partnership; its grants there then act in both
// roles with no TLP limit, as grants without a membership do. That widens the standing of any
// member that was a publisher or reader only, or had a clearance, so it is refused then unless
// confirmWeaken.
func (s *Service) RemoveMembership(ctx context.Context, actor, memberID, slug string, confirmWeaken bool) (Change, error) {
	have, err := s.store.Membership(ctx, memberID, slug)
	if errors.Is(err, store.ErrNotFound) {
		return Change{}, notFound(err, "member %s has no membership in %s", memberID, slug)
	}
	if err != nil {
		return Change{}, fmt.Errorf("admin: membership of %s in %s: %w", memberID, slug, err)
	}
	target := memberID + " in " + slug
	if err := refuseWeakening("membership "+target, MembershipWeakenings(have, store.DefaultMembership(memberID, slug)), confirmWeaken); err != nil {
		return Change{}, err
	}
	err = s.store.DeleteMembership(ctx, memberID, slug)
	if errors.Is(err, store.ErrNotFound) {
		return Change{}, notFound(err, "member %s has no membership in %s", memberID, slug)
	}
	if err != nil {
		return Change{}, fmt.Errorf("admin: remove the membership of %s in %s: %w", memberID, slug, err)
	}
	c := Change{Action: "delete", Kind: "membership", Target: target, Before: stateOf(membershipOf(have))}
	return c, s.record(ctx, actor, c)
}

// Memberships lists the memberships of a partnership, ordered by member.
func (s *Service) Memberships(ctx context.Context, slug string) ([]Membership, error) {
	if _, err := s.apiRoot(ctx, slug); err != nil {
		return nil, err
	}
	ms, err := s.store.Memberships(ctx, slug)
	if err != nil {
		return nil, fmt.Errorf("admin: memberships of %s: %w", slug, err)
	}
	out := make([]Membership, len(ms))
	for i, m := range ms {
		out[i] = membershipOf(m)
	}
	return out, nil
}
