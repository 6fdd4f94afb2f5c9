package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

type apiRootDoc struct {
	Slug        string `bson:"_id"`
	Title       string `bson:"title"`
	Description string `bson:"description"`
	// The policy; absent in documents written before policies existed, which reads as no rules.
	PersonalData    string   `bson:"personal_data,omitempty"`
	Jurisdictions   []string `bson:"jurisdictions,omitempty"`
	NoOnwardSharing bool     `bson:"no_onward_sharing,omitempty"`
	Reviewers       []string `bson:"reviewers,omitempty"`
	// Writes is incremented by CreateCollection, PutGrant and PutMembership to serialize them with
	// DeleteAPIRoot and with changes of policy.
	Writes int64 `bson:"writes"`
}

func (d apiRootDoc) apiRoot() store.APIRoot {
	return store.APIRoot{Slug: d.Slug, Title: d.Title, Description: d.Description, Policy: d.policy()}
}

func (d apiRootDoc) policy() store.PartnershipPolicy {
	return store.PartnershipPolicy{PersonalData: store.PersonalDataMode(d.PersonalData),
		Jurisdictions: store.SortedSet(d.Jurisdictions), NoOnwardSharing: d.NoOnwardSharing,
		Reviewers: store.SortedSet(d.Reviewers)}
}

// policyFields are the fields an API root's policy is stored in, for $set.
func policyFields(p store.PartnershipPolicy) bson.D {
	jur := store.SortedSet(p.Jurisdictions)
	if jur == nil {
		jur = []string{}
	}
	reviewers := store.SortedSet(p.Reviewers)
	if reviewers == nil {
		reviewers = []string{}
	}
	return bson.D{
		{Key: "personal_data", Value: string(p.PersonalData)},
		{Key: "jurisdictions", Value: jur},
		{Key: "no_onward_sharing", Value: p.NoOnwardSharing},
		{Key: "reviewers", Value: reviewers},
	}
}

type collectionDoc struct {
	ID          string   `bson:"_id"`
	APIRoot     string   `bson:"api_root"`
	Title       string   `bson:"title"`
	Alias       string   `bson:"alias"`
	Description string   `bson:"description"`
	MediaTypes  []string `bson:"media_types"`
	// The policy; absent in documents written before policies existed, which reads as no rules.
	AllowedTypes     []string `bson:"allowed_types,omitempty"`
	DeniedProperties []string `bson:"denied_properties,omitempty"`
	MaxTLP           int      `bson:"max_tlp,omitempty"`
	// Unmarked and AllowedProperties are absent in documents written before they existed, which
	// reads as unmarked objects treated as CLEAR and any property allowed.
	Unmarked          string              `bson:"unmarked,omitempty"`
	AllowedProperties map[string][]string `bson:"allowed_properties,omitempty"`
	// Review and ReviewTimeout (nanoseconds) are absent in documents written before release review
	// existed, which reads as objects stored at once.
	Review        string `bson:"review,omitempty"`
	ReviewTimeout int64  `bson:"review_timeout,omitempty"`
	// Retention (nanoseconds) is absent in documents written before retention existed, which
	// reads as versions kept for good.
	Retention int64 `bson:"retention,omitempty"`
	// Members marks the root's members collection; absent in every other collection.
	Members bool `bson:"members,omitempty"`
	// LastAdded is the latest date added in the collection, in Unix microseconds; AddObjects assigns
	// dates after it.
	LastAdded int64 `bson:"last_added"`
	// Writes is incremented by every AddObjects transaction, to serialize them.
	Writes int64 `bson:"writes"`
}

func (d collectionDoc) collection() store.Collection {
	return store.Collection{
		ID:          d.ID,
		APIRoot:     d.APIRoot,
		Title:       d.Title,
		Alias:       d.Alias,
		Description: d.Description,
		MediaTypes:  d.MediaTypes,
		Policy: store.CollectionPolicy{
			AllowedTypes:      store.SortedSet(d.AllowedTypes),
			DeniedProperties:  store.SortedSet(d.DeniedProperties),
			MaxTLP:            store.TLP(d.MaxTLP),
			Unmarked:          store.UnmarkedRule(d.Unmarked),
			AllowedProperties: store.SortedProperties(d.AllowedProperties),
			Review:            store.ReviewRule(d.Review),
			ReviewTimeout:     time.Duration(d.ReviewTimeout),
			Retention:         time.Duration(d.Retention),
		},
		Members: d.Members,
	}
}

func collectionPolicyFields(p store.CollectionPolicy) bson.D {
	orEmpty := func(s []string) []string {
		if s = store.SortedSet(s); s == nil {
			return []string{}
		}
		return s
	}
	return bson.D{
		{Key: "allowed_types", Value: orEmpty(p.AllowedTypes)},
		{Key: "denied_properties", Value: orEmpty(p.DeniedProperties)},
		{Key: "max_tlp", Value: int(p.MaxTLP)},
		{Key: "unmarked", Value: string(p.Unmarked)},
		{Key: "allowed_properties", Value: allowedProperties(p.AllowedProperties)},
		{Key: "review", Value: string(p.Review)},
		{Key: "review_timeout", Value: int64(p.ReviewTimeout)},
		{Key: "retention", Value: int64(p.Retention)},
	}
}

// allowedProperties is the document form of allowed properties: an empty document when there are
// none, so that an update clears them.
func allowedProperties(props map[string][]string) map[string][]string {
	props = store.SortedProperties(props)
	if props == nil {
		return map[string][]string{}
	}
	for typ, paths := range props {
		if paths == nil {
			props[typ] = []string{}
		}
	}
	return props
}

// CreateAPIRoot adds an API root. ErrConflict if its slug is taken.
func (s *Store) CreateAPIRoot(ctx context.Context, root store.APIRoot) error {
	if root.Slug == "" {
		return errors.New("mongostore: create API root: empty slug")
	}
	p := root.Policy
	_, err := s.apiRoots.InsertOne(ctx, apiRootDoc{Slug: root.Slug, Title: root.Title, Description: root.Description,
		PersonalData: string(p.PersonalData), Jurisdictions: store.SortedSet(p.Jurisdictions), NoOnwardSharing: p.NoOnwardSharing,
		Reviewers: store.SortedSet(p.Reviewers)})
	if err != nil {
		return fmt.Errorf("mongostore: create API root %s: %w", root.Slug, translate(err))
	}
	return nil
}

// APIRoot returns the root with the slug. ErrNotFound if there is none.
func (s *Store) APIRoot(ctx context.Context, slug string) (store.APIRoot, error) {
	var d apiRootDoc
	if err := s.apiRoots.FindOne(ctx, bson.D{{Key: "_id", Value: slug}}).Decode(&d); err != nil {
		return store.APIRoot{}, fmt.Errorf("mongostore: API root %s: %w", slug, translate(err))
	}
	return d.apiRoot(), nil
}

// APIRoots lists every API root, ordered by slug.
func (s *Store) APIRoots(ctx context.Context) ([]store.APIRoot, error) {
	cur, err := s.apiRoots.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("mongostore: list API roots: %w", err)
	}
	var docs []apiRootDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: list API roots: %w", err)
	}
	roots := make([]store.APIRoot, 0, len(docs))
	for _, d := range docs {
		roots = append(roots, d.apiRoot())
	}
	return roots, nil
}

// UpdateAPIRoot replaces the title, description and policy of an API root. ErrNotFound if there is
// none; ErrJurisdiction if the policy would exclude a member holding a grant or membership in it.
func (s *Store) UpdateAPIRoot(ctx context.Context, root store.APIRoot) error {
	set := append(bson.D{{Key: "title", Value: root.Title}, {Key: "description", Value: root.Description}},
		policyFields(root.Policy)...)
	err := s.transact(ctx, func(ctx context.Context) error {
		// Writing the root's document conflicts with a PutGrant or PutMembership that has locked it, so
		// no member can join between the check below and the commit.
		res, err := s.apiRoots.UpdateOne(ctx, bson.D{{Key: "_id", Value: root.Slug}},
			bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "writes", Value: 1}}}})
		if err != nil {
			return err
		}
		if res.MatchedCount == 0 {
			return store.ErrNotFound
		}
		if len(root.Policy.Jurisdictions) == 0 {
			return nil
		}
		ids, err := s.participants(ctx, root.Slug)
		if err != nil {
			return err
		}
		return s.checkJurisdictions(ctx, ids, map[string]store.PartnershipPolicy{root.Slug: root.Policy}, root.Slug)
	})
	if err != nil {
		return fmt.Errorf("mongostore: update API root %s: %w", root.Slug, err)
	}
	return nil
}

// DeleteAPIRoot removes an API root with its members collection. ErrNotFound if there is none;
// ErrConflict while it holds any other collection.
func (s *Store) DeleteAPIRoot(ctx context.Context, slug string) error {
	var members []string
	err := s.transact(ctx, func(ctx context.Context) error {
		// CreateCollection writes to the root's document in its transaction, so a collection created
		// concurrently either is seen here or makes this delete (or itself) retry: the check and the
		// delete cannot be split by a create.
		err := s.collections.FindOne(ctx, bson.D{{Key: "api_root", Value: slug}, {Key: "members", Value: bson.D{{Key: "$ne", Value: true}}}},
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		switch {
		case err == nil:
			return fmt.Errorf("it still holds collections: %w", store.ErrConflict)
		case !errors.Is(err, mongo.ErrNoDocuments):
			return err
		}
		res, err := s.apiRoots.DeleteOne(ctx, bson.D{{Key: "_id", Value: slug}})
		if err != nil {
			return err
		}
		if res.DeletedCount == 0 {
			return store.ErrNotFound
		}
		// Left behind, memberships would reappear under a new root that reuses the slug.
		if _, err := s.memberships.DeleteMany(ctx, bson.D{{Key: "api_root", Value: slug}}); err != nil {
			return fmt.Errorf("delete memberships: %w", err)
		}
		members, err = s.deleteMembersCollection(ctx, slug)
		return err
	})
	if err != nil {
		return fmt.Errorf("mongostore: delete API root %s: %w", slug, err)
	}
	// Outside the transaction, for the reason DeleteCollection gives; versions left behind are
	// unreachable once their collection's document is gone.
	if len(members) > 0 {
		if _, err := s.objects.DeleteMany(ctx, bson.D{{Key: "collection_id", Value: bson.D{{Key: "$in", Value: members}}}}); err != nil {
			return fmt.Errorf("mongostore: delete the members' identities of API root %s: %w", slug, err)
		}
	}
	return nil
}

// deleteMembersCollection removes the members collection of a root and the grants on it, within
// the caller's transaction, and returns its id (none when the root has none), whose objects are
// then the caller's to remove.
func (s *Store) deleteMembersCollection(ctx context.Context, slug string) ([]string, error) {
	filter := bson.D{{Key: "api_root", Value: slug}, {Key: "members", Value: true}}
	cur, err := s.collections.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("find the members collection: %w", err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("find the members collection: %w", err)
	}
	if len(docs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	// Deleting the document conflicts with an AddObjects transaction that has locked it, as in
	// DeleteCollection, so nothing lands in the collection after this.
	if _, err := s.collections.DeleteMany(ctx, filter); err != nil {
		return nil, fmt.Errorf("delete the members collection: %w", err)
	}
	if _, err := s.grants.DeleteMany(ctx, bson.D{{Key: "collection_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return nil, fmt.Errorf("delete grants on the members collection: %w", err)
	}
	return ids, nil
}

// CreateCollection adds a collection to an existing API root. ErrNotFound if the root does not exist;
// ErrConflict if the id is taken in any root, the alias is taken within the root, or the root has a
// members collection already and this is another (the unique index api_root_members).
func (s *Store) CreateCollection(ctx context.Context, c store.Collection) error {
	if c.ID == "" {
		return errors.New("mongostore: create collection: empty id")
	}
	doc := collectionDoc{
		ID:          c.ID,
		APIRoot:     c.APIRoot,
		Title:       c.Title,
		Alias:       c.Alias,
		Description: c.Description,
		MediaTypes:  c.MediaTypes,

		AllowedTypes:      store.SortedSet(c.Policy.AllowedTypes),
		DeniedProperties:  store.SortedSet(c.Policy.DeniedProperties),
		MaxTLP:            int(c.Policy.MaxTLP),
		Unmarked:          string(c.Policy.Unmarked),
		AllowedProperties: store.SortedProperties(c.Policy.AllowedProperties),
		Review:            string(c.Policy.Review),
		ReviewTimeout:     int64(c.Policy.ReviewTimeout),
		Retention:         int64(c.Policy.Retention),
		Members:           c.Members,
	}
	err := s.transact(ctx, func(ctx context.Context) error {
		var root apiRootDoc
		if err := lockDoc(ctx, s.apiRoots, c.APIRoot, &root); err != nil {
			return translate(err)
		}
		_, err := s.collections.InsertOne(ctx, doc)
		return translate(err)
	})
	if err != nil {
		return fmt.Errorf("mongostore: create collection %s in %s: %w", c.ID, c.APIRoot, err)
	}
	return nil
}

// Collection returns the collection of the root whose id, or else whose alias, is ref. ErrNotFound
// if there is none in that root.
func (s *Store) Collection(ctx context.Context, root, ref string) (store.Collection, error) {
	filter := bson.D{{Key: "api_root", Value: root}, {Key: "_id", Value: ref}}
	if ref != "" {
		// One query for both: at most one document has the id and at most one the alias.
		filter = bson.D{
			{Key: "api_root", Value: root},
			{Key: "$or", Value: bson.A{bson.D{{Key: "_id", Value: ref}}, bson.D{{Key: "alias", Value: ref}}}},
		}
	}
	cur, err := s.collections.Find(ctx, filter, options.Find().SetProjection(collectionProjection))
	if err != nil {
		return store.Collection{}, fmt.Errorf("mongostore: collection %s in %s: %w", ref, root, err)
	}
	var docs []collectionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return store.Collection{}, fmt.Errorf("mongostore: collection %s in %s: %w", ref, root, err)
	}
	var found *collectionDoc
	for i := range docs {
		if docs[i].ID == ref || found == nil {
			found = &docs[i]
		}
	}
	if found == nil {
		return store.Collection{}, fmt.Errorf("mongostore: collection %s in %s: %w", ref, root, store.ErrNotFound)
	}
	return found.collection(), nil
}

// UpdateCollection replaces the title, alias, description and media types of a collection; its id and
// API root never change. ErrNotFound if the root holds no collection with that id; ErrConflict if the
// alias is taken by another collection of the root.
func (s *Store) UpdateCollection(ctx context.Context, c store.Collection) error {
	// The filter names the root as well as the id, so that a collection cannot be reached, let alone
	// moved, through another root. The unique partial index on (api_root, alias) refuses an alias
	// another collection of the root holds, also one set by a concurrent update; the collection's own
	// alias is no conflict. The bookkeeping fields (last_added, writes) are left alone. Outside a
	// transaction, this update waits for an AddObjects or PutGrant transaction holding the document
	// to end; one that has not locked it yet conflicts with this update and is retried.
	res, err := s.collections.UpdateOne(ctx, bson.D{{Key: "_id", Value: c.ID}, {Key: "api_root", Value: c.APIRoot}},
		bson.D{{Key: "$set", Value: append(bson.D{
			{Key: "title", Value: c.Title},
			{Key: "alias", Value: c.Alias},
			{Key: "description", Value: c.Description},
			{Key: "media_types", Value: c.MediaTypes},
		}, collectionPolicyFields(c.Policy)...)}})
	if err == nil && res.MatchedCount == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mongostore: update collection %s in %s: %w", c.ID, c.APIRoot, translate(err))
	}
	return nil
}

// collectionProjection leaves out the bookkeeping fields that reads do not need.
var collectionProjection = bson.D{{Key: "last_added", Value: 0}, {Key: "writes", Value: 0}}

// Collections lists the collections of a root, ordered by title then id. ErrNotFound if the root does
// not exist.
func (s *Store) Collections(ctx context.Context, root string) ([]store.Collection, error) {
	if _, err := s.APIRoot(ctx, root); err != nil {
		return nil, err
	}
	opts := options.Find().
		SetSort(bson.D{{Key: "title", Value: 1}, {Key: "_id", Value: 1}}).
		SetProjection(collectionProjection)
	cur, err := s.collections.Find(ctx, bson.D{{Key: "api_root", Value: root}}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongostore: list collections of %s: %w", root, err)
	}
	var docs []collectionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: list collections of %s: %w", root, err)
	}
	cs := make([]store.Collection, 0, len(docs))
	for _, d := range docs {
		cs = append(cs, d.collection())
	}
	return cs, nil
}

// DeleteCollection removes a collection, every object version in it and every grant on it.
// ErrNotFound if the root holds no collection with that id.
func (s *Store) DeleteCollection(ctx context.Context, root, id string) error {
	// Queue behind this process's writers of the collection instead of failing their transactions
	// with write conflicts (and being failed by them) until one of us gives up.
	unlock, err := s.writers.lock(ctx, id)
	if err != nil {
		return fmt.Errorf("mongostore: delete collection %s in %s: %w", id, root, err)
	}
	err = s.transact(ctx, func(ctx context.Context) error {
		// The collection's document goes first: from then on every AddObjects or PutGrant transaction
		// finds nothing to lock and fails with ErrNotFound, and one that holds the lock already
		// conflicts with this delete, which is retried once it has committed; so nothing can land
		// after the grants and objects below are removed.
		res, err := s.collections.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "api_root", Value: root}})
		if err != nil {
			return err
		}
		if res.DeletedCount == 0 {
			return store.ErrNotFound
		}
		// The grants go with it, atomically: a collection has at most one per member.
		if _, err := s.grants.DeleteMany(ctx, bson.D{{Key: "collection_id", Value: id}}); err != nil {
			return fmt.Errorf("delete grants: %w", err)
		}
		// Objects held for review go with the collection they were posted to.
		if _, err := s.reviewQueue.DeleteMany(ctx, bson.D{{Key: "collection_id", Value: id}}); err != nil {
			return fmt.Errorf("delete objects held for review: %w", err)
		}
		return nil
	})
	unlock()
	if err != nil {
		return fmt.Errorf("mongostore: delete collection %s in %s: %w", id, root, err)
	}
	// Not in the transaction: a large collection would exceed MongoDB 4.0's limits on one (16 MB of
	// oplog, 60 s). If this fails or the process dies midway, the versions left are unreachable, since
	// every read starts from the collection's document and collection ids are never reused.
	if _, err := s.objects.DeleteMany(ctx, bson.D{{Key: "collection_id", Value: id}}); err != nil {
		return fmt.Errorf("mongostore: delete objects of collection %s: %w", id, err)
	}
	return nil
}

// collectionExists returns ErrNotFound unless the collection exists.
func (s *Store) collectionExists(ctx context.Context, id string) error {
	err := s.collections.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if err != nil {
		return fmt.Errorf("collection %s: %w", id, translate(err))
	}
	return nil
}

// translate maps the driver's errors that have a meaning in the contract to the contract's sentinels,
// keeping the original in the chain.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	default:
		return err
	}
}
