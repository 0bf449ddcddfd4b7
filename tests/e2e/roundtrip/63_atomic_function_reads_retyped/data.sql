-- the view calls the function made again
SELECT f FROM first_view;
SELECT obj_description('first_id()'::regprocedure);
