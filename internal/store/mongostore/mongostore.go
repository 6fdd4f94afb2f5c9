// Package mongostore is the MongoDB backend of store.Store, for hubs that run several processes on one
// replica set (or sharded cluster). It needs MongoDB 4.0 or later, because it relies on multi-document
// transactions to serialize writers per collection; it is the only package that imports the driver.
//
// Documents:
//
//	api_roots         {_id: slug, title, description, writes}
//	collections       {_id: collection id, api_root, title, alias, description, media_types, members (true
//	                  in the root's members collection only), last_added, writes}
//	objects           {collection_id, object_id, version, spec_version, type, date_added, sha256, content}
//	statuses          {_id: {api_root, id}, submitter, pending, request_timestamp, successes, failures, pendings,
//	                  parts (absent when the details are in the document itself)}
//	status_parts      {_id: {api_root, id, n}, successes, failures, pendings}: the details of a status too
//	                  large for one document, in order (see status.go)
//	members           {_id: member id, name, jurisdiction, contact, writes}
//	grants            {member_id, api_root, collection_id, read, write}
//	tokens            {_id: jti, kind, subject, issued_at, expires_at, revoked_at (absent while usable), note}
//	verification_keys {_id: kid, public_key, created_at, retired_at (absent while it verifies)}
//	audit             {_id: seq, at, actor, action, target, detail, before, after (absent when empty), prev_hash, hash}
//	counters          {_id: "audit", seq}: the last audit sequence number handed out (see admin.go);
//	                  {_id: "fingerprints-v2", at}: origins were re-keyed (see fingerprints.go);
//	                  {_id: "ledger", seq, hash, writes}: the head of the ledger (see ledger.go);
//	                  {_id: "schema", version}: the newest schema a build set up here (see schema.go)
//	memberships       {api_root, member_id, role, clearance}
//	origins           {key, api_root, member_id, at, derived_from (when re-keyed from an older fingerprint)}:
//	                  who first published an id or fingerprint where
//	withdrawals       {_id: "<api root>|<object id>", api_root, object_id, collection_id, member_id, at}
//	ledger            {_id: seq, at, kind, member_id, token_id, api_root, collection_id, endpoint, items, prev_hash, hash}
//	ledger_pending    {_id: object id, at, kind, member_id, token_id, api_root, collection_id, endpoint, items}:
//	                  entries committed but not yet chained (see ledger.go)
//	seeds             {_id: sha256 of the seed file, path, applied_at}: the seed files applied at start
//
// API roots and collections also hold their policies (personal_data, jurisdictions, no_onward_sharing,
// reviewers; allowed_types, denied_properties, max_tlp), and objects their tlp and, for tombstones, withdrawn;
// documents written before these fields existed lack them, which reads as no rules and level 0.
//
// Times are int64 Unix microseconds. Content is a BSON binary holding the bytes exactly as added. The
// writes counters exist only to be incremented: a transaction's first step increments the counter of the
// document it must serialize on, which takes that document's write lock until the transaction ends.
// PutGrant increments both its member's and its collection's, so that a grant cannot be committed beside
// the deletion of either.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"taxiihub/internal/store"
)

var _ store.Store = (*Store)(nil)

const (
	// DefaultServerSelectionTimeout bounds how long an operation waits for a usable primary, for
	// instance during an election, before it fails. The driver's own default (30 s) outlasts most
	// HTTP clients' patience; a failover normally completes within 12 s.
	DefaultServerSelectionTimeout = 15 * time.Second

	// appName labels the hub's connections in the server's logs and currentOp.
	appName = "taxiihub"
)

// Collection names.
const (
	apiRootsName    = "api_roots"
	collectionsName = "collections"
	objectsName     = "objects"
	statusesName    = "statuses"
	statusPartsName = "status_parts"
	membersName     = "members"
	grantsName      = "grants"
	tokensName      = "tokens"

	verificationKeysName = "verification_keys"
	auditName            = "audit"
	countersName         = "counters"
	membershipsName      = "memberships"
	originsName          = "origins"
	withdrawalsName      = "withdrawals"
	ledgerName           = "ledger"
	ledgerPendingName    = "ledger_pending"
	pullDetailsName      = "pull_details"
	seedsName            = "seeds"
	reviewQueueName      = "review_queue"
)

// Index names, fixed so that Open is idempotent and hints can name them.
const (
	indexObjectVersion   = "collection_object_version"
	indexDateAdded       = "collection_date_added"
	indexTypeDateAdded   = "collection_type_date_added"
	indexObjectDateAdded = "collection_object_date_added"
	indexRootAlias       = "api_root_alias"
	indexRootTitle       = "api_root_title"
	indexRootMembers     = "api_root_members"

	indexCollectionMember     = "collection_member"
	indexMemberRootCollection = "member_root_collection"
	indexIssuedAt             = "issued_at_id"
	indexSubjectKind          = "subject_kind"
	indexCreatedAt            = "created_at_kid"
	indexRootMember           = "api_root_member"
	indexMember               = "member"
	indexKeyRoot              = "key_api_root"
	indexAtID                 = "at_id"
)

// Config says where the store lives.
type Config struct {
	// URI is a MongoDB connection string. Its read and write concerns and read preference are
	// overridden: the store's guarantees need majority reads and writes on the primary.
	URI string
	// Database is the name of the database holding the hub's collections.
	Database string
	// Now is the clock for dates added; nil means time.Now.
	Now func() time.Time
	// ServerSelectionTimeout bounds the wait for a usable primary; zero means
	// DefaultServerSelectionTimeout.
	ServerSelectionTimeout time.Duration
	// FingerprintUpgrade, when set, makes Open re-key, once, the origins of content fingerprinted
	// under the hub's first scheme (see store.FingerprintUpgrade).
	FingerprintUpgrade store.FingerprintUpgrade
	// ValueIndexer, when set, makes the store keep the value-search index (see store.ValueIndexer)
	// and Open fill it, once, for versions stored before. The hub always sets it. Without it the
	// store keeps no entries and forgets that the index was complete, so that the next Open with
	// it fills the index again.
	ValueIndexer store.ValueIndexer
}

func (c Config) validate() error {
	var errs []error
	if c.URI == "" {
		errs = append(errs, errors.New("URI is empty"))
	}
	if c.Database == "" {
		errs = append(errs, errors.New("Database is empty"))
	}
	if c.ServerSelectionTimeout < 0 {
		errs = append(errs, fmt.Errorf("ServerSelectionTimeout %s is negative", c.ServerSelectionTimeout))
	}
	return errors.Join(errs...)
}

// Store is a store.Store on MongoDB. It is safe for concurrent use, also by several processes
// sharing one database.
type Store struct {
	client      *mongo.Client
	apiRoots    *mongo.Collection
	collections *mongo.Collection
	objects     *mongo.Collection
	statuses    *mongo.Collection
	statusParts *mongo.Collection
	members     *mongo.Collection
	grants      *mongo.Collection
	tokens      *mongo.Collection
	now         func() time.Time
	// fingerprintUpgrade is Config.FingerprintUpgrade.
	fingerprintUpgrade store.FingerprintUpgrade
	// indexer is Config.ValueIndexer.
	indexer store.ValueIndexer

	verificationKeys *mongo.Collection
	audit            *mongo.Collection
	counters         *mongo.Collection
	memberships      *mongo.Collection
	origins          *mongo.Collection
	withdrawals      *mongo.Collection
	ledger           *mongo.Collection
	ledgerPending    *mongo.Collection
	pullDetails      *mongo.Collection
	reviewQueue      *mongo.Collection
	// seeds records the seed files applied at start (store.Seed); keyed by digest.
	seeds *mongo.Collection

	// writers serializes this process's AddObjects calls per collection, so that they queue here
	// instead of failing each other's transactions with write conflicts and retrying.
	writers keyedMutex
	// appenders serializes this process's AppendAudit calls, which all increment one counter, and its
	// sequencer runs, which all move the ledger's head.
	appenders keyedMutex
	// runs lets sequencer runs of this process stand in for each other.
	runs sequencerRuns

	hooks hooks
}

// hooks let tests act at points no caller can reach; all are nil outside tests.
type hooks struct {
	// inPublishTxn runs inside each publish transaction, after its writes, on every attempt.
	inPublishTxn func(ctx context.Context, collectionID string)
	// beforeSequence runs before each sequencer run; an error fails the run.
	beforeSequence func(ctx context.Context) error
	// inDecideTxn runs inside each review decision's transaction, after its writes, on every
	// attempt; an error aborts the transaction and fails the decision.
	inDecideTxn func(ctx context.Context, statusID string) error
}

// Open connects, checks that the deployment supports transactions (a replica set or sharded cluster;
// a standalone is refused), and creates the collections and indexes the store needs if they do not
// exist yet. Several processes may Open the same database.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	return open(ctx, cfg, nil)
}

// open is Open with a hook for tests to adjust the client options.
func open(ctx context.Context, cfg Config, adjust func(*options.ClientOptions)) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("mongostore: invalid config: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ServerSelectionTimeout == 0 {
		cfg.ServerSelectionTimeout = DefaultServerSelectionTimeout
	}
	opts := options.Client().
		ApplyURI(cfg.URI).
		SetAppName(appName).
		SetServerSelectionTimeout(cfg.ServerSelectionTimeout).
		// Majority writes survive a failover; majority reads never show what a failover could roll
		// back; reading the primary means a read follows every write acknowledged before it.
		SetWriteConcern(writeconcern.Majority()).
		SetReadConcern(readconcern.Majority()).
		SetReadPreference(readpref.Primary())
	// Retryable reads and writes are on by default in this driver, and are left so.
	if adjust != nil {
		adjust(opts)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongostore: connect: %w", err)
	}
	db := client.Database(cfg.Database)
	s := &Store{
		client:      client,
		apiRoots:    db.Collection(apiRootsName),
		collections: db.Collection(collectionsName),
		objects:     db.Collection(objectsName),
		statuses:    db.Collection(statusesName),
		statusParts: db.Collection(statusPartsName),
		members:     db.Collection(membersName),
		grants:      db.Collection(grantsName),
		tokens:      db.Collection(tokensName),
		now:         cfg.Now,

		fingerprintUpgrade: cfg.FingerprintUpgrade,
		indexer:            cfg.ValueIndexer,

		verificationKeys: db.Collection(verificationKeysName),
		audit:            db.Collection(auditName),
		counters:         db.Collection(countersName),
		memberships:      db.Collection(membershipsName),
		origins:          db.Collection(originsName),
		withdrawals:      db.Collection(withdrawalsName),
		ledger:           db.Collection(ledgerName),
		ledgerPending:    db.Collection(ledgerPendingName),
		pullDetails:      db.Collection(pullDetailsName),
		reviewQueue:      db.Collection(reviewQueueName),
		seeds:            db.Collection(seedsName),
	}
	if err := s.setUp(ctx, db); err != nil {
		return nil, errors.Join(err, s.Close(context.WithoutCancel(ctx)))
	}
	return s, nil
}

// Close disconnects from the deployment.
func (s *Store) Close(ctx context.Context) error {
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongostore: disconnect: %w", err)
	}
	return nil
}

// errIllegalOperation is the code a standalone mongod answers a transaction with.
const errIllegalOperation = 20

func (s *Store) setUp(ctx context.Context, db *mongo.Database) error {
	// Probe before creating anything, so that a misconfigured deployment is left untouched.
	err := s.transact(ctx, func(ctx context.Context) error {
		err := s.apiRoots.FindOne(ctx, bson.D{}).Err()
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil
		}
		return err
	})
	if err != nil {
		if ce := (mongo.CommandError{}); errors.As(err, &ce) && ce.HasErrorCode(errIllegalOperation) {
			return fmt.Errorf("mongostore: the deployment does not support transactions "+
				"(a standalone server?); the hub needs a replica set or a sharded cluster: %w", err)
		}
		return fmt.Errorf("mongostore: check transaction support: %w", err)
	}

	// A database a newer build has set up may hold what this one would misread or undo; refuse it
	// before creating or changing anything.
	if err := s.checkSchema(ctx); err != nil {
		return err
	}

	// Transactions cannot create collections on MongoDB 4.0, so every collection is created here.
	names := CollectionNames()
	// Only what is missing is created: creating takes a database-wide lock, and a hub restarting
	// while a crashed peer's transaction still holds a collection's lock would otherwise queue every
	// reader and writer of every node behind that lock until the transaction times out.
	existing, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("mongostore: list collections: %w", err)
	}
	for _, name := range names {
		if slices.Contains(existing, name) {
			continue
		}
		if err := db.CreateCollection(ctx, name); err != nil && !isNamespaceExists(err) {
			return fmt.Errorf("mongostore: create collection %s: %w", name, err)
		}
	}
	for _, ix := range []struct {
		c      *mongo.Collection
		models []mongo.IndexModel
	}{
		{s.objects, append(objectIndexes(), valueSearchIndex())},
		{s.collections, collectionIndexes()},
		{s.grants, grantIndexes()},
		{s.tokens, tokenIndexes()},
		{s.verificationKeys, verificationKeyIndexes()},
		{s.memberships, membershipIndexes()},
		{s.origins, originIndexes()},
		{s.ledgerPending, pendingIndexes()},
		{s.ledger, ledgerIndexes()},
		{s.reviewQueue, reviewQueueIndexes()},
		{s.statuses, statusIndexes()},
		{s.pullDetails, pullDetailIndexes()},
		// audit needs none but _id, which is its sequence number; withdrawals none but _id, the
		// partnership and object id.
	} {
		if err := createIndexes(ctx, ix.c, ix.models); err != nil {
			return err
		}
	}
	if err := s.scopeWithdrawals(ctx); err != nil {
		return err
	}
	// Created here, outside any transaction, so that appends find the counters and only ever update
	// them, rather than racing each other to insert them.
	if err := s.seedAuditCounter(ctx); err != nil {
		return err
	}
	if err := s.chainAudit(ctx); err != nil {
		return err
	}
	if err := s.seedLedgerHead(ctx); err != nil {
		return err
	}
	// Chain what a crashed process left pending. Bounded, so that a peer's transaction still holding
	// the head (it is aborted within a minute) does not hold up a restart: the next write or read of
	// the ledger chains the entries then.
	settleCtx, cancel := context.WithTimeout(ctx, openSettleTimeout)
	defer cancel()
	s.settle(settleCtx)
	if s.fingerprintUpgrade != nil {
		if err := s.upgradeFingerprints(ctx, s.fingerprintUpgrade); err != nil {
			return err
		}
	}
	if err := s.indexValues(ctx); err != nil {
		return err
	}
	return s.recordSchema(ctx)
}

// scopeWithdrawals moves withdrawals recorded before they held per partnership (keyed by the object
// id alone) to their partnership's key. Each is inserted under its new key before the old one is
// removed, so that a node stopping halfway leaves every withdrawal in force; a withdrawal from a
// collection deleted since keeps an empty partnership, where it bars nothing.
func (s *Store) scopeWithdrawals(ctx context.Context) error {
	cur, err := s.withdrawals.Find(ctx, bson.D{{Key: "api_root", Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil {
		return fmt.Errorf("mongostore: find withdrawals to scope: %w", err)
	}
	var old []struct {
		ID           string `bson:"_id"`
		CollectionID string `bson:"collection_id"`
		MemberID     string `bson:"member_id"`
		At           int64  `bson:"at"`
	}
	if err := cur.All(ctx, &old); err != nil {
		return fmt.Errorf("mongostore: find withdrawals to scope: %w", err)
	}
	for _, w := range old {
		var coll collectionDoc
		err := s.collections.FindOne(ctx, bson.D{{Key: "_id", Value: w.CollectionID}}).Decode(&coll)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("mongostore: scope the withdrawal of %s: %w", w.ID, err)
		}
		doc := withdrawalDoc{Key: withdrawalKey(coll.APIRoot, w.ID), APIRoot: coll.APIRoot, ObjectID: w.ID,
			CollectionID: w.CollectionID, MemberID: w.MemberID, At: w.At}
		if _, err := s.withdrawals.InsertOne(ctx, doc); err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("mongostore: scope the withdrawal of %s: %w", w.ID, err)
		}
		if _, err := s.withdrawals.DeleteOne(ctx, bson.D{{Key: "_id", Value: w.ID}}); err != nil {
			return fmt.Errorf("mongostore: scope the withdrawal of %s: %w", w.ID, err)
		}
	}
	return nil
}

// openSettleTimeout bounds how long Open tries to chain pending ledger entries.
const openSettleTimeout = 5 * time.Second

func membershipIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{
			// One membership per member and root; Memberships reads a root's in member order.
			Keys:    bson.D{{Key: "api_root", Value: 1}, {Key: "member_id", Value: 1}},
			Options: options.Index().SetName(indexRootMember).SetUnique(true),
		},
		{
			// DeleteMember and UpdateMember find a member's memberships.
			Keys:    bson.D{{Key: "member_id", Value: 1}},
			Options: options.Index().SetName(indexMember),
		},
	}
}

func originIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{
			// One origin per key and root, the first publication's; Origins looks keys up through it.
			Keys:    bson.D{{Key: "key", Value: 1}, {Key: "api_root", Value: 1}},
			Options: options.Index().SetName(indexKeyRoot).SetUnique(true),
		},
	}
}

func objectIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{
			// Identifies a version; answers VersionsOf and AddObjects' lookups.
			Keys:    bson.D{{Key: "collection_id", Value: 1}, {Key: "object_id", Value: 1}, {Key: "version", Value: 1}},
			Options: options.Index().SetName(indexObjectVersion).SetUnique(true),
		},
		{
			// The keyset of every page; unique because dates added are unique per collection.
			Keys:    bson.D{{Key: "collection_id", Value: 1}, {Key: "date_added", Value: 1}},
			Options: options.Index().SetName(indexDateAdded).SetUnique(true),
		},
		{
			// Scans with match[type]: one date-ordered range per type, merged, so a rare type does not
			// cost a scan of the whole collection.
			Keys:    bson.D{{Key: "collection_id", Value: 1}, {Key: "type", Value: 1}, {Key: "date_added", Value: 1}},
			Options: options.Index().SetName(indexTypeDateAdded),
		},
		{
			// Scans with match[id], likewise; without it they would sort every version of the ids in
			// memory, content included, and could hit the server's 32 MB sort limit.
			Keys:    bson.D{{Key: "collection_id", Value: 1}, {Key: "object_id", Value: 1}, {Key: "date_added", Value: 1}},
			Options: options.Index().SetName(indexObjectDateAdded),
		},
	}
}

func collectionIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{
			// Aliases are optional; only the ones set must be unique within a root.
			Keys: bson.D{{Key: "api_root", Value: 1}, {Key: "alias", Value: 1}},
			Options: options.Index().SetName(indexRootAlias).SetUnique(true).
				SetPartialFilterExpression(bson.D{{Key: "alias", Value: bson.D{{Key: "$gt", Value: ""}}}}),
		},
		{
			// Collections lists a root's collections in this order.
			Keys:    bson.D{{Key: "api_root", Value: 1}, {Key: "title", Value: 1}, {Key: "_id", Value: 1}},
			Options: options.Index().SetName(indexRootTitle),
		},
		{
			// One members collection per root, also when two hub processes create it at once.
			Keys: bson.D{{Key: "api_root", Value: 1}},
			Options: options.Index().SetName(indexRootMembers).SetUnique(true).
				SetPartialFilterExpression(bson.D{{Key: "members", Value: true}}),
		},
	}
}

func grantIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{
			// One grant per member and collection. CollectionGrants reads it in member order,
			// DeleteCollection removes a collection's grants through it, and PutGrant and DeleteGrant
			// find a grant with it.
			Keys:    bson.D{{Key: "collection_id", Value: 1}, {Key: "member_id", Value: 1}},
			Options: options.Index().SetName(indexCollectionMember).SetUnique(true),
		},
		{
			// Grants, on every TAXII request, reads a member's grants in this order without a sort;
			// DeleteMember removes them through it.
			Keys:    bson.D{{Key: "member_id", Value: 1}, {Key: "api_root", Value: 1}, {Key: "collection_id", Value: 1}},
			Options: options.Index().SetName(indexMemberRootCollection),
		},
	}
}

func tokenIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{
			// Tokens lists in this order.
			Keys:    bson.D{{Key: "issued_at", Value: 1}, {Key: "_id", Value: 1}},
			Options: options.Index().SetName(indexIssuedAt),
		},
		{
			// DeleteMember revokes a member's tokens; records are never deleted, so without it that
			// would scan every token ever issued.
			Keys:    bson.D{{Key: "subject", Value: 1}, {Key: "kind", Value: 1}},
			Options: options.Index().SetName(indexSubjectKind),
		},
	}
}

func verificationKeyIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{
			// VerificationKeys lists in this order.
			Keys:    bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}},
			Options: options.Index().SetName(indexCreatedAt),
		},
	}
}

func createIndexes(ctx context.Context, c *mongo.Collection, models []mongo.IndexModel) error {
	// Indexes are named, so those already there are skipped without asking the server to create
	// them, for the same reason as collections in setUp. One that exists under its name with other
	// keys or options is not detected here; the index tests compare the full specifications.
	specs, err := c.Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("mongostore: list indexes on %s: %w", c.Name(), err)
	}
	var missing []mongo.IndexModel
	for _, m := range models {
		if !slices.ContainsFunc(specs, func(spec mongo.IndexSpecification) bool { return spec.Name == indexName(m) }) {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := c.Indexes().CreateMany(ctx, missing); err != nil {
		return fmt.Errorf("mongostore: create indexes on %s: %w", c.Name(), err)
	}
	return nil
}

// indexName is the name an index model sets; every index the store creates is named.
func indexName(m mongo.IndexModel) string {
	var o options.IndexOptions
	if m.Options != nil {
		for _, set := range m.Options.List() {
			_ = set(&o) // the setters only assign fields
		}
	}
	if o.Name == nil {
		return ""
	}
	return *o.Name
}

// errNamespaceExists is the code of creating a collection that exists.
const errNamespaceExists = 48

func isNamespaceExists(err error) bool {
	ce := mongo.CommandError{}
	return errors.As(err, &ce) && ce.HasErrorCode(errNamespaceExists)
}

// Transaction retries. WithTransaction retries a transaction that lost a write conflict at once; when
// writers in several processes contend for one collection that becomes a busy loop, so retries after
// the first wait a random time up to a bound that doubles per attempt (full jitter).
const (
	retryBackoffBase = 2 * time.Millisecond
	retryBackoffMax  = 200 * time.Millisecond
)

// txnOptions make a transaction read one snapshot of majority-committed data and commit durably.
var txnOptions = options.Transaction().
	SetReadConcern(readconcern.Snapshot()).
	SetWriteConcern(writeconcern.Majority())

// transact runs fn in a transaction, retrying it as long as WithTransaction deems the failure transient.
// fn must be idempotent and must return every error a database call gave it.
func (s *Store) transact(ctx context.Context, fn func(ctx context.Context) error) error {
	sess, err := s.client.StartSession()
	if err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	attempt := 0
	_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
		}
		attempt++
		return nil, fn(ctx)
	}, txnOptions)
	return err
}

func backoff(attempt int) time.Duration {
	limit := retryBackoffMax
	if attempt < 16 {
		limit = min(retryBackoffMax, retryBackoffBase<<attempt)
	}
	return rand.N(limit) + 1
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// lockDoc increments the writes counter of the document with the id, which takes its write lock for
// the rest of the transaction: a concurrent transaction that does the same fails with a write conflict
// and is retried once this one has ended. It returns mongo.ErrNoDocuments if there is no such document.
func lockDoc(ctx context.Context, c *mongo.Collection, id string, decodeInto any) error {
	opts := options.FindOneAndUpdate().SetReturnDocument(options.Before)
	return c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "writes", Value: 1}}}}, opts).Decode(decodeInto)
}

// keyedMutex is a set of mutexes named by string, which can be waited for with a context. Entries
// live only while held or waited for.
type keyedMutex struct {
	mu    sync.Mutex // guards locks
	locks map[string]*keyedLock
}

// keyedLock is a channel rather than a sync.Mutex so that a writer can stop waiting when its
// request is cancelled.
type keyedLock struct {
	ch   chan struct{} // holds a token while locked
	refs int           // holders and waiters
}

// lock acquires the mutex named key and returns its unlock function, or fails when ctx ends first.
func (k *keyedMutex) lock(ctx context.Context, key string) (unlock func(), err error) {
	l := k.acquireRef(key)
	select {
	case l.ch <- struct{}{}:
		return func() {
			<-l.ch
			k.releaseRef(key, l)
		}, nil
	case <-ctx.Done():
		k.releaseRef(key, l)
		return nil, ctx.Err()
	}
}

func (k *keyedMutex) acquireRef(key string) *keyedLock {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.locks == nil {
		k.locks = make(map[string]*keyedLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{ch: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.refs++
	return l
}

func (k *keyedMutex) releaseRef(key string, l *keyedLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l.refs--
	if l.refs == 0 {
		delete(k.locks, key)
	}
}
