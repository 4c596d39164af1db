-- The marks a point-in-time drill proves a restore by: rows with known commit times, in a schema of their own,
-- written through a role that can write nothing else (archiving.setup; run again, it changes nothing).
DO $$ BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA IF NOT EXISTS saas_ops_pitr AUTHORIZATION {role};
CREATE TABLE IF NOT EXISTS saas_ops_pitr.marks (
    mark_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    note text NOT NULL
);
ALTER TABLE saas_ops_pitr.marks OWNER TO {role};
GRANT {role} TO {login_role};
