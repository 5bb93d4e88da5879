ALTER TABLE users DROP COLUMN task_count;
