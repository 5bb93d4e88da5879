-- Tags: at most 16, each 1 to 32 characters, no NULLs, no duplicates.
-- (Lower-casing and the allowed characters are checked by the service: what
-- lower() and [[:alpha:]] mean depends on the database's locale.)
CREATE FUNCTION tasks_tags_valid(tags text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN cardinality(tags) <= 16
        AND array_position(tags, NULL) IS NULL
        AND (SELECT bool_and(char_length(tag) BETWEEN 1 AND 32) AND count(DISTINCT tag) = count(*)
             FROM unnest(tags) AS tag) IS NOT FALSE;
--bun:split

CREATE TABLE tasks (
    user_id       text        NOT NULL,
    id            uuid        NOT NULL,
    title         text        NOT NULL,
    description   text        NOT NULL DEFAULT '',
    completed     boolean     NOT NULL DEFAULT false,
    priority      smallint    NOT NULL DEFAULT 0,
    tags          text[]      NOT NULL DEFAULT '{}',
    due_time      timestamptz,
    create_time   timestamptz NOT NULL,
    update_time   timestamptz NOT NULL,
    complete_time timestamptz,
    version       bigint      NOT NULL DEFAULT 1,
    request_id    uuid,

    CONSTRAINT tasks_pkey PRIMARY KEY (user_id, id),
    -- Idempotent creates; NULLs (no request id) are distinct.
    CONSTRAINT tasks_request_id_key UNIQUE (user_id, request_id),
    CONSTRAINT tasks_user_id_check CHECK (char_length(user_id) BETWEEN 1 AND 255),
    CONSTRAINT tasks_title_check CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT tasks_description_check CHECK (char_length(description) <= 4000),
    CONSTRAINT tasks_priority_check CHECK (priority BETWEEN 0 AND 3),
    CONSTRAINT tasks_tags_check CHECK (tasks_tags_valid(tags)),
    CONSTRAINT tasks_complete_time_check CHECK (completed = (complete_time IS NOT NULL)),
    CONSTRAINT tasks_update_time_check CHECK (update_time >= create_time),
    CONSTRAINT tasks_version_check CHECK (version >= 1)
);
--bun:split

-- One index per order, each leading with user_id and ending with id (the
-- tiebreak), so a page is a range scan of one user's rows in either
-- direction and a keyset page deep in the list costs what the first does.
-- The filters (completed, priority, tag, query, due range) narrow that
-- same scan; they never need to look at other users' rows.
CREATE INDEX tasks_user_create_time_idx ON tasks (user_id, create_time, id);
--bun:split
CREATE INDEX tasks_user_update_time_idx ON tasks (user_id, update_time, id);
--bun:split
-- DUE_TIME_ASC puts tasks without a due date last: the same expression as
-- the query's sort key.
CREATE INDEX tasks_user_due_time_idx ON tasks (user_id, (COALESCE(due_time, 'infinity'::timestamptz)), id);
--bun:split
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, create_time, id);
--bun:split
CREATE INDEX tasks_user_title_idx ON tasks (user_id, title, id);
--bun:split

-- Secrets every replica shares, created on first use: the page token key.
CREATE TABLE storage_keys (
    name text  PRIMARY KEY,
    key  bytea NOT NULL CHECK (length(key) >= 32)
);
