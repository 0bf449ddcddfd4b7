-- Every comment, with its object (dbkit's own left out)
SELECT (pg_identify_object(d.classoid, d.objoid, d.objsubid)).type, (pg_identify_object(d.classoid, d.objoid, d.objsubid)).identity,
       d.description
  FROM pg_description d
 WHERE d.objoid >= 16384 AND d.classoid <> 'pg_extension'::regclass AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.objid = d.objoid AND x.deptype = 'e')
 ORDER BY 1, 2;
