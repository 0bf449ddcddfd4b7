-- Known gap (docs/design.md, "The schema diff"): snapshots carry no comments, so
-- neither generate nor push writes COMMENT ON, and the database keeps none.
SELECT count(*) FROM pg_description d JOIN pg_class c ON c.oid = d.objoid WHERE c.relnamespace = 'public'::regnamespace
