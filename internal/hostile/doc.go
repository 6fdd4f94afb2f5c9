// Package hostile holds tests that attack the hub as an outsider and as a careless or hostile
// partner would, over real sockets against real hub processes, on the embedded database and on
// MongoDB where the backend matters: headers that never end, bodies trickled with and without a
// token, hundreds of idle connections from one address under a low open-file limit, a status
// amplified by thousands of invalid objects, objects over the size limit, several bodies of the
// largest size at once, and filters far beyond their caps. Each test asserts what the hub answers
// and what it keeps, never how fast: no 5xx other than 503 with Retry-After, the partner who
// behaves is served, and nothing acknowledged is lost.
//
// The package has no non-test code. Its tests build cmd/taxiihub once and start mongod through
// internal/mongotest. The benchmarks (go test -run '^$' -bench . -benchtime 1x ./internal/hostile/)
// measure the hub's peak memory against max_content_length under 1, 5 and 20 concurrent POSTs of
// the largest size, and what one large object costs the hub (bytes allocated, peak memory, CPU)
// against its body on each backend.
package hostile
