// Package storetest checks that a store.Store keeps the guarantees the hub relies on. Every backend's
// tests call Run with a function that opens a fresh, empty store; the same cases run against each.
package storetest

import (
	"testing"

	"taxiihub/internal/store"
)

// Open returns a fresh, empty store for one test and arranges for it to be closed when the test ends.
// The store must keep the value-search index with the hub's indexer (policy.IndexValues), as the hub
// opens it.
type Open func(t *testing.T) store.Store

type testCase struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// Run runs every conformance case against a fresh store from open.
func Run(t *testing.T, open Open) {
	var cases []testCase
	cases = append(cases, lifecycleCases...)
	cases = append(cases, writeCases...)
	cases = append(cases, queryCases...)
	cases = append(cases, pagingCases...)
	cases = append(cases, deleteCases...)
	cases = append(cases, concurrencyCases...)
	cases = append(cases, accessCases...)
	cases = append(cases, adminCases...)
	cases = append(cases, sharingCases...)
	cases = append(cases, ledgerCases...)
	cases = append(cases, membersCases...)
	cases = append(cases, deepCases...)
	cases = append(cases, onwardCases...)
	cases = append(cases, reviewCases...)
	cases = append(cases, retentionCases...)
	cases = append(cases, pullCases...)
	cases = append(cases, peopleCases...)
	cases = append(cases, searchCases...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, open(t))
		})
	}
}
