SELECT s || ' ' || history::text FROM tickets
