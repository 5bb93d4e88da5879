-- mode: prepared
-- ListTasks, first page of 50, no total asked: what
-- storage.(*Store).ListTasks sends (LIMIT is the page size plus one, to
-- know whether a next page exists), prepared as the store prepares it.
\set u random(0, :users - 1)
SELECT t.user_id, t.id, t.title, t.description, t.completed, t.priority, t.tags, t.due_time, t.create_time, t.update_time, t.complete_time, t.version, t.request_id, t.change_seq FROM tasks AS t WHERE (t.user_id = 'ceiling-' || :u) ORDER BY t.create_time DESC, t.id DESC LIMIT 51;
