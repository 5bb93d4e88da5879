-- CreateTask: what storage.(*Store).CreateTask sends, one simple-query
-- message (an implicit transaction): the statement timeout, the next number
-- of the user's change sequence and the insert, which takes that number
-- unless a remembered deletion holds the request id. (The NOTIFY that tells
-- other replicas comes after, batched, from another connection.) The id and request id are random rather
-- than UUIDv7 (pgbench has no clock), and the times are fixed literals.
\set u random(0, :users - 1)
\set a random(10000000, 99999999)
\set b random(100000000000, 999999999999)
SET LOCAL statement_timeout = 5000 \; INSERT INTO users (user_id, change_seq) VALUES ('ceiling-:u', 1) ON CONFLICT (user_id) DO UPDATE SET change_seq = users.change_seq + 1 \; INSERT INTO tasks (user_id, id, title, description, completed, priority, tags, due_time, create_time, update_time, complete_time, version, request_id, change_seq) SELECT 'ceiling-:u', ':a-0000-7000-8000-:b', 'Benchmark task 1', 'Benchmark task: a description of about a hundred characters, as a person would type into a form.', FALSE, 2, '{"bench","t1"}'::text[], NULL, '2026-01-01 12:00:00.000001+00:00'::timestamptz, '2026-01-01 12:00:00.000001+00:00'::timestamptz, NULL, 1, ':a-0000-4000-8000-:b', (SELECT u.change_seq FROM users AS u WHERE u.user_id = 'ceiling-:u') WHERE NOT EXISTS (SELECT 1 FROM task_tombstones AS d WHERE d.user_id = 'ceiling-:u' AND d.request_id = ':a-0000-4000-8000-:b') ON CONFLICT (user_id, request_id) DO NOTHING RETURNING change_seq;
