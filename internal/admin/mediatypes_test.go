package admin_test

import (
	"slices"
	"testing"

	"taxiihub/internal/admin"
)

// TestCollectionMediaTypes: a collection holds STIX 2.1 only, so it may advertise nothing else;
// spellings of the STIX 2.1 type that differ in spacing or case are the same type, stored once in
// the canonical spelling.
func TestCollectionMediaTypes(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	seedOne(t, e)
	for _, m := range []string{
		"application/json",
		"application/stix+json",                 // no version: a client cannot tell which STIX
		"application/stix+json;version=2.0",     // the hub refuses STIX 2.0 content
		"application/taxii+json;version=2.1",    // an envelope, not an object
		"application/stix+json;version=2.1;x=y", // a parameter nobody defined
	} {
		_, err := e.svc.CreateCollection(ctx, "alice", admin.Collection{Partnership: "eu-japan", Title: "T", MediaTypes: []string{m}})
		wantKind(t, "media type "+m, err, admin.Invalid, m, "application/stix+json;version=2.1")
	}
	c, err := e.svc.CreateCollection(ctx, "alice", admin.Collection{Partnership: "eu-japan", Title: "T",
		MediaTypes: []string{"Application/STIX+JSON; version=2.1", "application/stix+json;version=2.1"}})
	if err != nil {
		t.Fatalf("variants of the STIX 2.1 type: %v", err)
	}
	if !slices.Equal(c.MediaTypes, []string{"application/stix+json;version=2.1"}) {
		t.Errorf("stored media types %q, want the canonical spelling once", c.MediaTypes)
	}

	// A spec file is held to the same rule, and its variants do not make apply see a change.
	spec := admin.Spec{Partnerships: []admin.PartnershipSpec{{Slug: "eu-japan", Title: "EU–Japan", Collections: []admin.CollectionSpec{
		{Alias: "cyber-threats", Title: "Cyber threats", MediaTypes: []string{"application/json"}},
	}}}}
	_, err = e.svc.Apply(ctx, "alice", spec, true, false)
	wantKind(t, "a spec with application/json", err, admin.Invalid, `media type "application/json"`)
	spec.Partnerships[0].Collections[0].MediaTypes = []string{"application/stix+json; version=2.1"}
	if _, err := e.svc.Apply(ctx, "alice", spec, false, false); err != nil {
		t.Fatal(err)
	}
	spec.Partnerships[0].Collections[0].MediaTypes = []string{"application/stix+json;version=2.1"}
	res, err := e.svc.Apply(ctx, "alice", spec, true, false)
	if err != nil || len(res.Changes) != 0 {
		t.Errorf("the canonical spelling after a variant: changes %v, %v; want none", res.Changes, err)
	}
}
