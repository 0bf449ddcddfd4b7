SELECT about FROM users
