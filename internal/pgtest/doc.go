// Package pgtest gives tests a throwaway PostgreSQL: one cluster per test
// binary (TEST_DATABASE_URL's server, or a fresh initdb on a free loopback
// port), a fresh database per caller, and PgBouncer in transaction pooling
// mode in front of it. A binary that uses it calls Main from its TestMain so
// the cluster is stopped when the tests end; the processes also die with the
// test binary, so a killed run leaks nothing. When PostgreSQL cannot be had
// the tests skip, except under CI=true, where they fail.
package pgtest
