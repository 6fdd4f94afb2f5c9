// Package reliability holds tests that run the hub as operators do, as real processes on a real
// three-member MongoDB replica set (or on the embedded database), and break things underneath it
// while internal/load publishes and polls through it: the MongoDB primary steps down and is then
// killed, a hub process is killed mid-ingest, a hub process is stopped with SIGTERM under load.
// Each test then holds the hub to its promises: every object reported as a success in a 202 is still
// there, every poller entitled to it saw it exactly once, and where the test says so, no client saw
// a 5xx.
//
// The package has no non-test code. Its tests build cmd/taxiihub once, start mongod through
// internal/mongotest (fetching it if need be, never skipping), and take about two minutes together
// on a two-CPU machine. The benchmarks (go test -run '^$' -bench . ./internal/reliability/) measure
// the ratios the README's "Load and reliability" section reports.
package reliability
