CREATE INDEX tasks_user_title_idx ON tasks (user_id, title, id);
--bun:split
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, create_time, id);
--bun:split
CREATE INDEX tasks_user_update_time_idx ON tasks (user_id, update_time, id);
