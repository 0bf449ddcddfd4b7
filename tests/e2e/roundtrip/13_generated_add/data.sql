SELECT full_name FROM people
