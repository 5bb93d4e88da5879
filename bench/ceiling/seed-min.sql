-- The minimal schema for insert-best: the columns of storage's tasks table
-- with only the keys CreateTask needs, the primary key and the request-id
-- key (no CHECKs, no order indexes, no change-sequence index), in a schema
-- of its own. Its rows are a copy of the ones seed.sql just wrote, so both
-- tables hold the same users and tasks.
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS ceiling_min;
DROP TABLE IF EXISTS ceiling_min.tasks;
CREATE TABLE ceiling_min.tasks (
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
    change_seq    bigint      NOT NULL,
    PRIMARY KEY (user_id, id),
    UNIQUE (user_id, request_id)
);
INSERT INTO ceiling_min.tasks (user_id, id, title, description, completed, priority, tags,
                               due_time, create_time, update_time, complete_time, version, request_id, change_seq)
SELECT user_id, id, title, description, completed, priority, tags,
       due_time, create_time, update_time, complete_time, version, request_id, change_seq
FROM public.tasks WHERE user_id LIKE 'ceiling-%';
VACUUM ANALYZE ceiling_min.tasks;
