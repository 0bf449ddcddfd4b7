-- the rows kept
SELECT u.id, d.body FROM users u JOIN docs d ON d.owner_id = u.id;
