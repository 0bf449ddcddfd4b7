SELECT qty FROM items
