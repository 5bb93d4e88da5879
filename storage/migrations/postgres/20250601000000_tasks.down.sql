DROP TABLE storage_keys;
--bun:split
DROP TABLE tasks;
--bun:split
DROP FUNCTION tasks_tags_valid(text[]);
