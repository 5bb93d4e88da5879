-- Ceiling data: :users users (ceiling-0 ... ceiling-N) with :tasks tasks each,
-- shaped like the tasks the load tool creates through the API. Ids are
-- UUIDs whose last group is 100000000000 + n, so a pgbench script can name
-- row n (of user n % :users) without looking it up. Each user's tasks take
-- the numbers 1, 2, ... of its change sequence, and its row in users holds
-- the latest and the count, as the store's writes leave them.
DELETE FROM tasks WHERE user_id LIKE 'ceiling-%';
DELETE FROM users WHERE user_id LIKE 'ceiling-%';
INSERT INTO tasks (user_id, id, title, description, completed, priority, tags,
                   due_time, create_time, update_time, complete_time, version, request_id, change_seq)
SELECT 'ceiling-' || (n % :users),
       ('00000000-0000-7000-8000-' || (100000000000 + n))::uuid,
       'Benchmark task ' || n,
       'Benchmark task: a description of about a hundred characters, as a person would type into a form.',
       false, 1 + n % 3, ARRAY['bench', 't' || (n % 8)],
       NULL, now() - n * interval '1 ms', now() - n * interval '1 ms', NULL, 1, gen_random_uuid(),
       (n + :users - 1) / :users
FROM generate_series(1, :users * :tasks) AS n;
INSERT INTO users (user_id, change_seq, task_count)
SELECT user_id, max(change_seq), count(*) FROM tasks WHERE user_id LIKE 'ceiling-%' GROUP BY user_id;
VACUUM ANALYZE tasks;
VACUUM ANALYZE users;
