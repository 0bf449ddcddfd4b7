-- the rows moved with their tables, and the next values follow them
SELECT count(*) FROM blog.posts;
INSERT INTO blog.posts (title, uid) VALUES ('c', 1) RETURNING id;
INSERT INTO blog.labels (label) VALUES ('z') RETURNING id;
INSERT INTO blog.notes (body) VALUES ('n3') RETURNING id;
SELECT post_count(), post_title(p) FROM blog.posts p WHERE id = 1;
