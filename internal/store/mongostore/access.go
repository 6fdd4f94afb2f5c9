package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

type memberDoc struct {
	ID           string `bson:"_id"`
	Name         string `bson:"name"`
	Jurisdiction string `bson:"jurisdiction"`
	Contact      string `bson:"contact"`
	// IdentityProvider is absent for a member without one.
	IdentityProvider *providerDoc `bson:"identity_provider,omitempty"`
	// Writes is incremented by PutGrant to serialize it with DeleteMember.
	Writes int64 `bson:"writes"`
}

func (d memberDoc) member() store.Member {
	m := store.Member{ID: d.ID, Name: d.Name, Jurisdiction: d.Jurisdiction, Contact: d.Contact}
	if d.IdentityProvider != nil {
		p := store.IdentityProvider(*d.IdentityProvider)
		m.IdentityProvider = &p
	}
	return m
}

type providerDoc struct {
	Issuer           string `bson:"issuer"`
	ClientID         string `bson:"client_id"`
	ClientSecretFile string `bson:"client_secret_file,omitempty"`
	ClientSecretEnv  string `bson:"client_secret_env,omitempty"`
	RolesClaim       string `bson:"roles_claim"`
}

func providerDocOf(p *store.IdentityProvider) *providerDoc {
	if p == nil {
		return nil
	}
	d := providerDoc(*p)
	return &d
}

// grantDoc is a grant as stored; its _id is an ObjectID that nothing reads.
type grantDoc struct {
	MemberID     string `bson:"member_id"`
	APIRoot      string `bson:"api_root"`
	CollectionID string `bson:"collection_id"`
	Read         bool   `bson:"read"`
	Write        bool   `bson:"write"`
}

type tokenDoc struct {
	ID      string `bson:"_id"`
	Kind    string `bson:"kind"`
	Subject string `bson:"subject"`
	// IssuedAt and ExpiresAt are in Unix microseconds.
	IssuedAt  int64 `bson:"issued_at"`
	ExpiresAt int64 `bson:"expires_at"`
	// RevokedAt, in Unix microseconds, is absent while the token is usable: a revocation matches on
	// its absence, so that the first one wins.
	RevokedAt *int64 `bson:"revoked_at,omitempty"`
	Note      string `bson:"note"`
	// Reviewer is absent in tokens issued before release review existed, which review nothing.
	Reviewer bool `bson:"reviewer,omitempty"`
}

func (d tokenDoc) token() store.Token {
	t := store.Token{
		ID:        d.ID,
		Kind:      store.TokenKind(d.Kind),
		Subject:   d.Subject,
		IssuedAt:  fromMicros(d.IssuedAt),
		ExpiresAt: fromMicros(d.ExpiresAt),
		Note:      d.Note,
		Reviewer:  d.Reviewer,
	}
	if d.RevokedAt != nil {
		t.RevokedAt = fromMicros(*d.RevokedAt)
	}
	return t
}

// notRevoked matches the tokens that have not been revoked.
var notRevoked = bson.E{Key: "revoked_at", Value: nil}

// findQuery is a find the store runs, kept as data so that tests can explain exactly that query.
type findQuery struct {
	coll       *mongo.Collection
	filter     bson.D
	sort       bson.D
	hint       string
	projection bson.D
	// limit caps the documents returned; zero means no cap.
	limit int64
}

func (q findQuery) options() *options.FindOptionsBuilder {
	o := options.Find().SetSort(q.sort).SetBatchSize(readBatchSize)
	if q.hint != "" {
		o.SetHint(q.hint)
	}
	if q.projection != nil {
		o.SetProjection(q.projection)
	}
	if q.limit > 0 {
		o.SetLimit(q.limit)
	}
	return o
}

// findAll runs q and decodes every document into docs, a pointer to a slice.
func findAll(ctx context.Context, q findQuery, docs any) error {
	cur, err := q.coll.Find(ctx, q.filter, q.options())
	if err != nil {
		return err
	}
	return cur.All(ctx, docs)
}

// CreateMember adds a partner organisation. ErrConflict if the id is taken.
func (s *Store) CreateMember(ctx context.Context, m store.Member) error {
	if m.ID == "" {
		return errors.New("mongostore: create member: empty id")
	}
	doc := memberDoc{ID: m.ID, Name: m.Name, Jurisdiction: m.Jurisdiction, Contact: m.Contact,
		IdentityProvider: providerDocOf(m.IdentityProvider)}
	if _, err := s.members.InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("mongostore: create member %s: %w", m.ID, translate(err))
	}
	return nil
}

// Member returns the member with the id. ErrNotFound if there is none.
func (s *Store) Member(ctx context.Context, id string) (store.Member, error) {
	var d memberDoc
	if err := s.members.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return store.Member{}, fmt.Errorf("mongostore: member %s: %w", id, translate(err))
	}
	return d.member(), nil
}

// UpdateMember replaces a member's name, jurisdiction and contact. ErrNotFound if there is none;
// ErrJurisdiction if a partnership in which it holds a grant or membership excludes the new
// jurisdiction.
func (s *Store) UpdateMember(ctx context.Context, m store.Member) error {
	err := s.transact(ctx, func(ctx context.Context) error {
		// Writing the member's document conflicts with a PutGrant or PutMembership that has locked it,
		// and with an UpdateAPIRoot checking it, so the check below sees every partnership the member
		// is in and every policy that applies when this commits.
		res, err := s.members.UpdateOne(ctx, bson.D{{Key: "_id", Value: m.ID}},
			bson.D{{Key: "$set", Value: bson.D{
				{Key: "name", Value: m.Name},
				{Key: "jurisdiction", Value: m.Jurisdiction},
				{Key: "contact", Value: m.Contact},
				{Key: "identity_provider", Value: providerDocOf(m.IdentityProvider)},
			}}, {Key: "$inc", Value: bson.D{{Key: "writes", Value: 1}}}})
		if err != nil {
			return err
		}
		if res.MatchedCount == 0 {
			return store.ErrNotFound
		}
		roots, err := s.rootsOf(ctx, m.ID)
		if err != nil {
			return err
		}
		policies, err := s.policies(ctx, roots)
		if err != nil {
			return err
		}
		var outside []string
		for _, root := range roots {
			if !policies[root].AllowsJurisdiction(m.Jurisdiction) {
				outside = append(outside, fmt.Sprintf("%s (%s) in %s", m.ID, m.Jurisdiction, root))
			}
		}
		if len(outside) > 0 {
			return fmt.Errorf("%s: %w", strings.Join(outside, ", "), store.ErrJurisdiction)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mongostore: update member %s: %w", m.ID, err)
	}
	return nil
}

// rootsOf lists the API roots in which a member holds a grant or a membership, sorted.
func (s *Store) rootsOf(ctx context.Context, memberID string) ([]string, error) {
	var docs []struct {
		APIRoot string `bson:"api_root"`
	}
	var roots []string
	for _, c := range []*mongo.Collection{s.grants, s.memberships} {
		cur, err := c.Find(ctx, bson.D{{Key: "member_id", Value: memberID}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "api_root", Value: 1}}))
		if err != nil {
			return nil, fmt.Errorf("find the partnerships of %s: %w", memberID, err)
		}
		if err := cur.All(ctx, &docs); err != nil {
			return nil, fmt.Errorf("find the partnerships of %s: %w", memberID, err)
		}
		for _, d := range docs {
			roots = append(roots, d.APIRoot)
		}
	}
	return store.SortedSet(roots), nil
}

// participants lists the members holding a grant or membership in an API root, sorted.
func (s *Store) participants(ctx context.Context, root string) ([]string, error) {
	var docs []struct {
		MemberID string `bson:"member_id"`
	}
	var ids []string
	for _, c := range []*mongo.Collection{s.grants, s.memberships} {
		cur, err := c.Find(ctx, bson.D{{Key: "api_root", Value: root}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "member_id", Value: 1}}))
		if err != nil {
			return nil, fmt.Errorf("find the members of %s: %w", root, err)
		}
		if err := cur.All(ctx, &docs); err != nil {
			return nil, fmt.Errorf("find the members of %s: %w", root, err)
		}
		for _, d := range docs {
			ids = append(ids, d.MemberID)
		}
	}
	return store.SortedSet(ids), nil
}

// policies reads the policies of API roots; a root that does not exist has no rules.
func (s *Store) policies(ctx context.Context, roots []string) (map[string]store.PartnershipPolicy, error) {
	out := make(map[string]store.PartnershipPolicy, len(roots))
	if len(roots) == 0 {
		return out, nil
	}
	cur, err := s.apiRoots.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: roots}}}})
	if err != nil {
		return nil, fmt.Errorf("read partnership policies: %w", err)
	}
	var docs []apiRootDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read partnership policies: %w", err)
	}
	for _, d := range docs {
		out[d.Slug] = d.policy()
	}
	return out, nil
}

// checkJurisdictions refuses with ErrJurisdiction when a member among ids comes from a jurisdiction
// that policy of root excludes. It writes to each member's document first, so that a concurrent
// UpdateMember conflicts with this transaction instead of changing a jurisdiction it has checked.
func (s *Store) checkJurisdictions(ctx context.Context, ids []string, policies map[string]store.PartnershipPolicy, root string) error {
	if len(ids) == 0 {
		return nil
	}
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	if _, err := s.members.UpdateMany(ctx, filter, bson.D{{Key: "$inc", Value: bson.D{{Key: "writes", Value: 1}}}}); err != nil {
		return fmt.Errorf("lock the members of %s: %w", root, err)
	}
	cur, err := s.members.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("read the members of %s: %w", root, err)
	}
	var docs []memberDoc
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("read the members of %s: %w", root, err)
	}
	var outside []string
	for _, d := range docs {
		if !policies[root].AllowsJurisdiction(d.Jurisdiction) {
			outside = append(outside, fmt.Sprintf("%s (%s) in %s", d.ID, d.Jurisdiction, root))
		}
	}
	if len(outside) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(outside, ", "), store.ErrJurisdiction)
	}
	return nil
}

// lockJoin takes the write locks of a member's and an API root's documents and refuses with
// ErrJurisdiction when the root's policy excludes the member, or ErrNotFound when either is missing.
// Holding both locks until the transaction ends keeps UpdateMember, UpdateAPIRoot, DeleteMember and
// DeleteAPIRoot from committing beside it.
func (s *Store) lockJoin(ctx context.Context, memberID, root string) error {
	var m memberDoc
	if err := lockDoc(ctx, s.members, memberID, &m); err != nil {
		return fmt.Errorf("member %s: %w", memberID, translate(err))
	}
	var r apiRootDoc
	if err := lockDoc(ctx, s.apiRoots, root, &r); err != nil {
		return fmt.Errorf("API root %s: %w", root, translate(err))
	}
	if !r.policy().AllowsJurisdiction(m.Jurisdiction) {
		return fmt.Errorf("%s (%s) in %s: %w", memberID, m.Jurisdiction, root, store.ErrJurisdiction)
	}
	return nil
}

// Members lists every member, ordered by id.
func (s *Store) Members(ctx context.Context) ([]store.Member, error) {
	var docs []memberDoc
	q := findQuery{coll: s.members, filter: bson.D{}, sort: bson.D{{Key: "_id", Value: 1}}}
	if err := findAll(ctx, q, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: list members: %w", err)
	}
	ms := make([]store.Member, 0, len(docs))
	for _, d := range docs {
		ms = append(ms, d.member())
	}
	return ms, nil
}

// DeleteMember removes a member with its grants and revokes its partner tokens not yet revoked at the
// time given, all in one transaction. ErrNotFound if there is none.
func (s *Store) DeleteMember(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		// A zero RevokedAt means usable: the member's tokens would outlive it.
		return fmt.Errorf("mongostore: delete member %s: zero revocation time", id)
	}
	revoked := at.UnixMicro()
	err := s.transact(ctx, func(ctx context.Context) error {
		// Deleting the member's document conflicts with a PutGrant that has locked it, so a grant
		// cannot be added between the delete below and the commit.
		res, err := s.members.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
		if err != nil {
			return err
		}
		if res.DeletedCount == 0 {
			return store.ErrNotFound
		}
		if _, err := s.grants.DeleteMany(ctx, bson.D{{Key: "member_id", Value: id}}); err != nil {
			return fmt.Errorf("delete grants: %w", err)
		}
		if _, err := s.memberships.DeleteMany(ctx, bson.D{{Key: "member_id", Value: id}}); err != nil {
			return fmt.Errorf("delete memberships: %w", err)
		}
		_, err = s.tokens.UpdateMany(ctx,
			bson.D{{Key: "subject", Value: id}, {Key: "kind", Value: string(store.PartnerToken)}, notRevoked},
			bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: revoked}}}})
		if err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mongostore: delete member %s: %w", id, err)
	}
	return nil
}

// PutGrant creates or replaces the grant of a member on a collection. ErrNotFound if the member does
// not exist or the API root holds no such collection.
func (s *Store) PutGrant(ctx context.Context, g store.Grant) error {
	doc := grantDoc(g)
	err := s.transact(ctx, func(ctx context.Context) error {
		// Reading the member and the collection would not do: snapshot isolation would let a
		// concurrent DeleteMember or DeleteCollection commit beside this transaction and leave the
		// grant dangling. Writing to both documents makes either of those conflict with it instead.
		if err := s.lockJoin(ctx, g.MemberID, g.APIRoot); err != nil {
			return err
		}
		err := lockWhere(ctx, s.collections, bson.D{{Key: "_id", Value: g.CollectionID}, {Key: "api_root", Value: g.APIRoot}})
		if err != nil {
			return fmt.Errorf("collection %s in %s: %w", g.CollectionID, g.APIRoot, translate(err))
		}
		_, err = s.grants.ReplaceOne(ctx, grantKey(g.MemberID, g.CollectionID), doc, options.Replace().SetUpsert(true))
		return translate(err)
	})
	if err != nil {
		return fmt.Errorf("mongostore: put grant of %s on %s: %w", g.MemberID, g.CollectionID, err)
	}
	return nil
}

// membershipDoc is a membership as stored; its _id is an ObjectID that nothing reads.
type membershipDoc struct {
	APIRoot   string `bson:"api_root"`
	MemberID  string `bson:"member_id"`
	Role      string `bson:"role"`
	Clearance int    `bson:"clearance"`
}

func (d membershipDoc) membership() store.Membership {
	return store.Membership{MemberID: d.MemberID, APIRoot: d.APIRoot, Role: store.Role(d.Role), Clearance: store.TLP(d.Clearance)}
}

func membershipKey(memberID, root string) bson.D {
	return bson.D{{Key: "api_root", Value: root}, {Key: "member_id", Value: memberID}}
}

// PutMembership creates or replaces a member's membership of a partnership. ErrNotFound if the member
// or the API root does not exist; ErrJurisdiction if the root's policy excludes the member.
func (s *Store) PutMembership(ctx context.Context, m store.Membership) error {
	if !m.Role.Valid() {
		return fmt.Errorf("mongostore: put membership of %s in %s: invalid role %q", m.MemberID, m.APIRoot, m.Role)
	}
	doc := membershipDoc{APIRoot: m.APIRoot, MemberID: m.MemberID, Role: string(m.Role), Clearance: int(m.Clearance)}
	err := s.transact(ctx, func(ctx context.Context) error {
		if err := s.lockJoin(ctx, m.MemberID, m.APIRoot); err != nil {
			return err
		}
		_, err := s.memberships.ReplaceOne(ctx, membershipKey(m.MemberID, m.APIRoot), doc, options.Replace().SetUpsert(true))
		return translate(err)
	})
	if err != nil {
		return fmt.Errorf("mongostore: put membership of %s in %s: %w", m.MemberID, m.APIRoot, err)
	}
	return nil
}

// DeleteMembership removes a member's membership of a partnership. ErrNotFound if there is none.
func (s *Store) DeleteMembership(ctx context.Context, memberID, root string) error {
	res, err := s.memberships.DeleteOne(ctx, membershipKey(memberID, root))
	if err == nil && res.DeletedCount == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mongostore: delete membership of %s in %s: %w", memberID, root, err)
	}
	return nil
}

// Membership returns a member's membership of a partnership. ErrNotFound if there is none.
func (s *Store) Membership(ctx context.Context, memberID, root string) (store.Membership, error) {
	var d membershipDoc
	if err := s.memberships.FindOne(ctx, membershipKey(memberID, root)).Decode(&d); err != nil {
		return store.Membership{}, fmt.Errorf("mongostore: membership of %s in %s: %w", memberID, root, translate(err))
	}
	return d.membership(), nil
}

// Memberships lists the memberships of a partnership, ordered by member id.
func (s *Store) Memberships(ctx context.Context, root string) ([]store.Membership, error) {
	var docs []membershipDoc
	q := findQuery{coll: s.memberships, filter: bson.D{{Key: "api_root", Value: root}},
		sort: bson.D{{Key: "member_id", Value: 1}}, hint: indexRootMember, projection: grantProjection}
	if err := findAll(ctx, q, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: memberships in %s: %w", root, err)
	}
	out := make([]store.Membership, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.membership())
	}
	return out, nil
}

func grantKey(memberID, collectionID string) bson.D {
	return bson.D{{Key: "collection_id", Value: collectionID}, {Key: "member_id", Value: memberID}}
}

// DeleteGrant removes a member's grant on a collection. ErrNotFound if there is none.
func (s *Store) DeleteGrant(ctx context.Context, memberID, collectionID string) error {
	res, err := s.grants.DeleteOne(ctx, grantKey(memberID, collectionID))
	if err == nil && res.DeletedCount == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mongostore: delete grant of %s on %s: %w", memberID, collectionID, err)
	}
	return nil
}

// grantProjection leaves out the _id nobody reads.
var grantProjection = bson.D{{Key: "_id", Value: 0}}

// grantsQuery is the read behind Grants, which authentication runs on every request: one range of
// one index, already in the order wanted.
func (s *Store) grantsQuery(memberID string) findQuery {
	return findQuery{
		coll:       s.grants,
		filter:     bson.D{{Key: "member_id", Value: memberID}},
		sort:       bson.D{{Key: "api_root", Value: 1}, {Key: "collection_id", Value: 1}},
		hint:       indexMemberRootCollection,
		projection: grantProjection,
	}
}

func (s *Store) collectionGrantsQuery(collectionID string) findQuery {
	return findQuery{
		coll:       s.grants,
		filter:     bson.D{{Key: "collection_id", Value: collectionID}},
		sort:       bson.D{{Key: "member_id", Value: 1}},
		hint:       indexCollectionMember,
		projection: grantProjection,
	}
}

// Grants lists a member's grants, ordered by API root then collection id; none for a member that
// does not exist.
func (s *Store) Grants(ctx context.Context, memberID string) ([]store.Grant, error) {
	gs, err := s.listGrants(ctx, s.grantsQuery(memberID))
	if err != nil {
		return nil, fmt.Errorf("mongostore: grants of %s: %w", memberID, err)
	}
	return gs, nil
}

// CollectionGrants lists the grants on a collection, ordered by member id.
func (s *Store) CollectionGrants(ctx context.Context, collectionID string) ([]store.Grant, error) {
	gs, err := s.listGrants(ctx, s.collectionGrantsQuery(collectionID))
	if err != nil {
		return nil, fmt.Errorf("mongostore: grants on %s: %w", collectionID, err)
	}
	return gs, nil
}

func (s *Store) listGrants(ctx context.Context, q findQuery) ([]store.Grant, error) {
	var docs []grantDoc
	if err := findAll(ctx, q, &docs); err != nil {
		return nil, err
	}
	gs := make([]store.Grant, 0, len(docs))
	for _, d := range docs {
		gs = append(gs, store.Grant(d))
	}
	return gs, nil
}

// SaveToken records an issued token. ErrConflict if its id is taken.
func (s *Store) SaveToken(ctx context.Context, t store.Token) error {
	if t.ID == "" {
		return errors.New("mongostore: save token: empty id")
	}
	doc := tokenDoc{
		ID:        t.ID,
		Kind:      string(t.Kind),
		Subject:   t.Subject,
		IssuedAt:  t.IssuedAt.UnixMicro(),
		ExpiresAt: t.ExpiresAt.UnixMicro(),
		Note:      t.Note,
		Reviewer:  t.Reviewer,
	}
	if t.Revoked() {
		us := t.RevokedAt.UnixMicro()
		doc.RevokedAt = &us
	}
	if _, err := s.tokens.InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("mongostore: save token %s: %w", t.ID, translate(err))
	}
	return nil
}

// Token returns the token record with the id. ErrNotFound if there is none. Authentication runs it on
// every request; it is a lookup of _id.
func (s *Store) Token(ctx context.Context, id string) (store.Token, error) {
	var d tokenDoc
	if err := s.tokens.FindOne(ctx, tokenFilter(id)).Decode(&d); err != nil {
		return store.Token{}, fmt.Errorf("mongostore: token %s: %w", id, translate(err))
	}
	return d.token(), nil
}

func tokenFilter(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }

func (s *Store) tokensQuery() findQuery {
	return findQuery{
		coll:   s.tokens,
		filter: bson.D{},
		sort:   bson.D{{Key: "issued_at", Value: 1}, {Key: "_id", Value: 1}},
		hint:   indexIssuedAt,
	}
}

// Tokens lists every token record, ordered by issue time then id.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	var docs []tokenDoc
	if err := findAll(ctx, s.tokensQuery(), &docs); err != nil {
		return nil, fmt.Errorf("mongostore: list tokens: %w", err)
	}
	ts := make([]store.Token, 0, len(docs))
	for _, d := range docs {
		ts = append(ts, d.token())
	}
	return ts, nil
}

// RevokeToken marks a token revoked at the time given; revoking it again keeps the first time.
// ErrNotFound if there is none.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		// A zero RevokedAt means usable.
		return fmt.Errorf("mongostore: revoke token %s: zero revocation time", id)
	}
	res, err := s.tokens.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, notRevoked},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: at.UnixMicro()}}}})
	if err == nil && res.MatchedCount == 0 {
		// Revoked already, which is kept, or not there at all. Tokens are never deleted, so the
		// answer cannot change between the update and this read.
		err = translate(s.tokens.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err())
	}
	if err != nil {
		return fmt.Errorf("mongostore: revoke token %s: %w", id, err)
	}
	return nil
}

// lockWhere increments the writes counter of the document filter matches, which takes its write lock
// for the rest of the transaction, like lockDoc. It returns mongo.ErrNoDocuments if none matches.
func lockWhere(ctx context.Context, c *mongo.Collection, filter bson.D) error {
	opts := options.FindOneAndUpdate().SetProjection(bson.D{{Key: "_id", Value: 1}})
	return c.FindOneAndUpdate(ctx, filter, bson.D{{Key: "$inc", Value: bson.D{{Key: "writes", Value: 1}}}}, opts).Err()
}
