-- The first day a new, changed or deleted ticket moves (20_checked_tickets.sql): the build starts there.
SELECT min(changes_from) FROM sup_changed
