CREATE TYPE status AS ENUM ('open', 'closed');
CREATE TABLE tickets (id int PRIMARY KEY, s status NOT NULL DEFAULT 'open', history status[]);
CREATE VIEW open_tickets AS SELECT id, s FROM tickets WHERE s = 'open';
INSERT INTO tickets VALUES (1, 'closed', '{open,closed}');
