-- Runs on saas_db. The columns and types of the tables the contract names, as found in the schema.
SELECT table_name, column_name, data_type
FROM information_schema.columns
WHERE table_schema = %(schema)s AND table_name = ANY(%(tables)s)
