-- the next value follows the rows already there
INSERT INTO tickets (title) VALUES ('d') RETURNING id > 3;
SELECT pg_get_serial_sequence('tickets', 'id');
