package sqlitestore

import (
	"strings"
	"testing"
	"time"

	"taxiihub/internal/store"
	"taxiihub/internal/store/storetest"
)

// TestAuditTrailOfAnOlderFileIsChainedOnce: the entries an older build wrote, unchained, are chained
// in order when this build first opens the file, and new entries follow them. Opening the file again
// chains nothing more, so an entry changed since still shows.
func TestAuditTrailOfAnOlderFileIsChainedOnce(t *testing.T) {
	db, path := fileAtSchema(t, 4)
	at := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro()
	var stmts []sqlStatement
	for _, target := range []string{"partnership eu-japan", "member cert-eu", "grant cert-eu"} {
		stmts = append(stmts, sqlStatement{`INSERT INTO audit (at, actor, action, target, detail)
			VALUES (?, 'alice', 'thing.create', ?, '')`, []any{at, target}})
	}
	fillFile(t, db, 4, stmts)
	db.Close()

	s := openTest(t, path)
	requireLatestSchema(t, s)
	storetest.RequireAuditVerifies(t, s, 3)
	if err := s.AppendAudit(t.Context(), store.AuditEntry{At: time.Now(), Actor: "bob", Action: "member.remove", Target: "member x"}); err != nil {
		t.Fatalf("append: %v", err)
	}
	storetest.RequireAuditVerifies(t, s, 4)

	if _, err := s.write.ExecContext(t.Context(), `UPDATE audit SET actor = 'mallory' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	again := openTest(t, path)
	v, err := store.VerifyAudit(t.Context(), again)
	if err != nil || v.OK || v.BrokenAt != 2 || !strings.Contains(v.Problem, "altered") {
		t.Errorf("verify after changing an entry and opening again: %+v, %v; want entry 2 altered", v, err)
	}
}
