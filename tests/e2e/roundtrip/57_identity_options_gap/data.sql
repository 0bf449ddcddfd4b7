-- Known gap (engine): the snapshot does not carry an identity column's sequence
-- options (START WITH, INCREMENT BY), so changing them plans nothing; the database
-- keeps START 1 INCREMENT 1.
SELECT start_value || ' ' || increment_by FROM pg_sequences WHERE sequencename = 'items_id_seq'
