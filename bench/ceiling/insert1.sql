-- The insert alone, in one message with the statement timeout: what
-- CreateTask's insert costs without the change sequence (no users row to
-- bump, no tombstone check). Not what the store sends since
-- sync: the difference from `insert` is what sync adds to a create. The
-- change number is random (unique per user), as pgbench has no sequence.
\set u random(0, :users - 1)
\set a random(10000000, 99999999)
\set b random(100000000000, 999999999999)
SET LOCAL statement_timeout = 5000 \; INSERT INTO "tasks" AS "t" ("user_id", "id", "title", "description", "completed", "priority", "tags", "due_time", "create_time", "update_time", "complete_time", "version", "request_id", "change_seq") VALUES ('ceiling-:u', ':a-0000-7000-8000-:b', 'Benchmark task 1', 'Benchmark task: a description of about a hundred characters, as a person would type into a form.', FALSE, 2, '{"bench","t1"}'::text[], NULL, '2026-01-01 12:00:00.000001+00:00'::timestamptz, '2026-01-01 12:00:00.000001+00:00'::timestamptz, NULL, 1, ':a-0000-4000-8000-:b', 1000000 + :b) ON CONFLICT (user_id, request_id) DO NOTHING;
