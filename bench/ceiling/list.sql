-- ListTasks, first page of 50: what storage.(*Store).ListTasks sends (LIMIT
-- is the page size plus one, to know whether a next page exists).
\set u random(0, :users - 1)
SET LOCAL statement_timeout = 5000 \; SELECT t.*, (SELECT count(*) AS total FROM "tasks" AS "t" WHERE (t.user_id = 'ceiling-:u')) AS total FROM "tasks" AS "t" WHERE (t.user_id = 'ceiling-:u') ORDER BY t.create_time DESC, t.id DESC LIMIT 51;
