SELECT coalesce(code::text, 'null') FROM items ORDER BY id
