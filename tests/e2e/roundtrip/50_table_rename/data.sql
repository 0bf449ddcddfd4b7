SELECT title FROM articles
