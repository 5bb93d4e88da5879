-- mode: prepared
-- GetTask: what storage.(*Store).GetTask sends (getSQL), prepared once per
-- connection, as the store prepares it. The values are built in SQL, as
-- pgbench sends each :variable as a parameter in prepared mode.
\set n random(1, :rows)
\set u :n % :users
\set k 100000000000 + :n
SELECT t.user_id, t.id, t.title, t.description, t.completed, t.priority, t.tags, t.due_time, t.create_time, t.update_time, t.complete_time, t.version, t.request_id, t.change_seq FROM tasks AS t WHERE t.user_id = 'ceiling-' || :u AND t.id = ('00000000-0000-7000-8000-' || :k)::uuid;
