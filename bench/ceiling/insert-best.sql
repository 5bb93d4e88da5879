-- mode: prepared
-- The cheapest CreateTask: one prepared INSERT into the minimal schema's
-- table (seed-min.sql: the primary key and the request-id key, nothing
-- else), idempotent on the request id, without the SET LOCAL. Like
-- `insert1` it takes no number from the user's change sequence (the change
-- number is random, unique per user) and the ids are random, not UUIDv7.
\set u random(0, :users - 1)
\set a random(10000000, 99999999)
\set b random(100000000000, 999999999999)
INSERT INTO ceiling_min.tasks (user_id, id, title, description, completed, priority, tags, due_time, create_time, update_time, complete_time, version, request_id, change_seq) VALUES ('ceiling-' || :u, (:a || '-0000-7000-8000-' || :b)::uuid, 'Benchmark task 1', 'Benchmark task: a description of about a hundred characters, as a person would type into a form.', FALSE, 2, '{"bench","t1"}', NULL, '2026-01-01 12:00:00.000001+00:00', '2026-01-01 12:00:00.000001+00:00', NULL, 1, (:a || '-0000-4000-8000-' || :b)::uuid, 1000000 + :b::bigint) ON CONFLICT (user_id, request_id) DO NOTHING;
