package mongostore_test

import (
	"strings"
	"testing"

	"taxiihub/internal/store"
)

// A publication's status is saved whatever its size: in the last chunk's transaction when it fits
// beside the objects, else just after it. MongoDB 4.0 writes a transaction as one oplog entry of at
// most 16 MB, so 8 MiB of objects and a 9 MiB status cannot commit together.
func TestPublicationStatusOfAnySize(t *testing.T) {
	s := openStore(t, mongod.Database(t))
	coll := newCollection(t, s)
	for _, tc := range []struct {
		name    string
		objects int // of about 1 MiB each
		message int // bytes of each detail's message
	}{
		{"small", 2, 10},
		{"too large to share the transaction", 8, 1200 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var objs []store.Object
			for i := range tc.objects {
				o := obj("indicator", 1000*tc.objects+i, modified)
				o.Content = append(o.Content[:len(o.Content)-1], `,"x_pad":"`+strings.Repeat("p", 1000<<10)+`"}`...)
				objs = append(objs, o)
			}
			id := "status-" + strings.ReplaceAll(tc.name, " ", "-")
			plan := &store.StatusPlan{Status: store.Status{ID: id, APIRoot: "root", Submitter: "cert-eu"}}
			for _, o := range objs {
				plan.Details = append(plan.Details, store.PlannedDetail{Detail: store.StatusDetail{ID: o.ID},
					Warnings: strings.Repeat(".", tc.message)})
			}
			_, err := s.Publish(t.Context(), store.Publication{CollectionID: coll, Member: "cert-eu", Objects: objs,
				Status: plan})
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			st, err := s.Status(t.Context(), "root", id)
			if err != nil {
				t.Fatalf("status: %v", err)
			}
			if len(st.Successes) != tc.objects || !strings.HasPrefix(st.Successes[1].Message, store.Added.String()) {
				t.Errorf("saved status has %d successes", len(st.Successes))
			}
		})
	}
}
