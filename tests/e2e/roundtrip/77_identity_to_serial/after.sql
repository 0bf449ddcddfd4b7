-- identity -> serial: the identity's sequence (t_id_seq) goes with DROP IDENTITY, so the serial's is made under
-- another name first and continues the count; started at 1 the next insert would collide
CREATE TABLE tickets (id serial PRIMARY KEY, title text);
