DROP FUNCTION tasks_create(text, uuid, text, text, boolean, smallint, text[], timestamptz, timestamptz, timestamptz, timestamptz, bigint, uuid);
