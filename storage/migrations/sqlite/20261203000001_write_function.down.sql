-- Nothing on SQLite: PostgreSQL's migration of the same name adds a function
-- that SQLite does as a transaction (storage/tasks.go).
SELECT 1;
