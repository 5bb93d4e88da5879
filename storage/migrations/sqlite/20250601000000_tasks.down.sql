DROP TABLE storage_keys;
--bun:split
DROP TABLE tasks;
