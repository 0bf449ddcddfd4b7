-- the values kept under the new name
SELECT qty FROM m1;
SELECT qty FROM k;
