// Package gotest holds end-to-end tests of cozeauth written in Go: they build
// the real binary once, drive it through the admin CLI exactly as an operator
// would, start `cozeauth serve` processes (several at once on one database to
// act as replicas) and talk to them only over HTTP through the public client
// package. They catch what in-process tests cannot: flag parsing, process
// start and graceful shutdown, cache invalidation across processes, and the
// wire format as a user's program sees it.
//
// Run with `go test ./e2e/gotest/`. COZEAUTH_BIN selects a prebuilt binary;
// COZEAUTH_TEST_POSTGRES_URL adds the PostgreSQL runs (each test creates and
// drops its own database there); under CI=true a missing PostgreSQL is a
// failure, not a skip.
package gotest
