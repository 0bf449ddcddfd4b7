CREATE TYPE status AS ENUM ('open', 'pending', 'closed');
CREATE TABLE tickets (id int PRIMARY KEY, s status NOT NULL DEFAULT 'pending', history status[]);
CREATE VIEW open_tickets AS SELECT id, s FROM tickets WHERE s = 'open';
