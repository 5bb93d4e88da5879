-- mode: prepared
-- The cheapest first page of 50: the page of 51 (one more, to know whether
-- a next page exists) in the default order, from the real table's
-- (user_id, create_time, id) index read backwards, as a prepared statement,
-- without the count(*) subquery or the SET LOCAL.
\set u random(0, :users - 1)
SELECT "t"."user_id", "t"."id", "t"."title", "t"."description", "t"."completed", "t"."priority", "t"."tags", "t"."due_time", "t"."create_time", "t"."update_time", "t"."complete_time", "t"."version", "t"."request_id", "t"."change_seq" FROM "tasks" AS "t" WHERE t.user_id = 'ceiling-' || :u ORDER BY t.create_time DESC, t.id DESC LIMIT 51;
