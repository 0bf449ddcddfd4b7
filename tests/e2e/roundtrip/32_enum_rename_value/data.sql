SELECT m FROM people
