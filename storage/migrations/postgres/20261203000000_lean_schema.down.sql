CREATE INDEX tasks_user_title_idx ON tasks (user_id, title, id);
--bun:split
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, create_time, id);
--bun:split
CREATE INDEX tasks_user_update_time_idx ON tasks (user_id, update_time, id);
--bun:split
CREATE FUNCTION tasks_tags_valid(tags text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN cardinality(tags) <= 16
        AND array_position(tags, NULL) IS NULL
        AND (SELECT bool_and(char_length(tag) BETWEEN 1 AND 32) AND count(DISTINCT tag) = count(*)
             FROM unnest(tags) AS tag) IS NOT FALSE;
--bun:split
ALTER TABLE tasks DROP CONSTRAINT tasks_tags_check;
--bun:split
ALTER TABLE tasks ADD CONSTRAINT tasks_tags_check CHECK (tasks_tags_valid(tags));
