-- mode: prepared
-- CreateTask: what storage.(*Store).CreateTask sends on PostgreSQL, one
-- prepared call of tasks_create: the next number of the user's change
-- sequence and a place in its count of tasks (below MAX_TASKS_PER_USER's
-- default), then the insert, which takes that number unless a remembered
-- deletion holds the request id. (The NOTIFY that tells other replicas
-- comes after, batched, from another connection.) The id and request id
-- are random rather than UUIDv7 (pgbench has no clock), and the times are
-- fixed literals.
\set u random(0, :users - 1)
\set a random(10000000, 99999999)
\set b random(100000000000, 999999999999)
SELECT tasks_create(('ceiling-' || :u)::text, (:a || '-0000-7000-8000-' || :b)::uuid, 'Benchmark task 1'::text, 'Benchmark task: a description of about a hundred characters, as a person would type into a form.'::text, false, 2::smallint, '{"bench","t1"}'::text[], NULL::timestamptz, '2026-01-01 12:00:00.000001+00:00'::timestamptz, '2026-01-01 12:00:00.000001+00:00'::timestamptz, NULL::timestamptz, 1::bigint, (:a || '-0000-4000-8000-' || :b)::uuid, 100000::bigint);
