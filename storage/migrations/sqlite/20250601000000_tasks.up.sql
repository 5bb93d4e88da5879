-- Times are INTEGER microseconds since the Unix epoch: exact round trips,
-- and they sort as times do. Tags are a JSON array of strings.
CREATE TABLE tasks (
    user_id       TEXT    NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    id            TEXT    NOT NULL CHECK (length(id) = 36),
    title         TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description   TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    completed     INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
    priority      INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 3),
    tags          TEXT    NOT NULL DEFAULT '[]'
                  CHECK (json_valid(tags) AND json_type(tags) = 'array' AND json_array_length(tags) <= 16),
    due_time      INTEGER,
    create_time   INTEGER NOT NULL,
    update_time   INTEGER NOT NULL CHECK (update_time >= create_time),
    complete_time INTEGER,
    version       INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    request_id    TEXT,

    PRIMARY KEY (user_id, id),
    UNIQUE (user_id, request_id),
    CHECK (completed = (complete_time IS NOT NULL))
) STRICT, WITHOUT ROWID;
--bun:split

CREATE INDEX tasks_user_create_time_idx ON tasks (user_id, create_time, id);
--bun:split
CREATE INDEX tasks_user_update_time_idx ON tasks (user_id, update_time, id);
--bun:split
CREATE INDEX tasks_user_due_time_idx ON tasks (user_id, COALESCE(due_time, 9223372036854775807), id);
--bun:split
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, create_time, id);
--bun:split
CREATE INDEX tasks_user_title_idx ON tasks (user_id, title, id);
--bun:split

CREATE TABLE storage_keys (
    name TEXT NOT NULL PRIMARY KEY,
    key  BLOB NOT NULL CHECK (length(key) >= 32)
) STRICT;
