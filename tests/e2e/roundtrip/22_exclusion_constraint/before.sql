CREATE TABLE bookings (id int PRIMARY KEY, room int, during int4range);
