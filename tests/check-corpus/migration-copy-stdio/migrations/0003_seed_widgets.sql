-- Custom SQL migration file, put your code below! --
COPY "widgets" ("name") FROM STDIN;