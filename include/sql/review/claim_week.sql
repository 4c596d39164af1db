-- Claims the week's review: a row back means no earlier run sent it.
INSERT INTO {schema}.weekly_reviews (week_start, run_id, recipients)
VALUES (%(week_start)s, %(run_id)s, %(recipients)s)
ON CONFLICT (week_start) DO NOTHING
RETURNING week_start
