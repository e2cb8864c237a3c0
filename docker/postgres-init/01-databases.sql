-- One database per owner on the one Postgres server, as `strangler up` does on its embedded server: the monolith,
-- each extracted service, the CDC worker (which pipelines should run), the facade (shadow diffs) and Unleash.
-- The CDC pipelines read and write these same databases, so the server runs with wal_level=logical (see
-- docker-compose.yml). The official image runs this once, on the first start with an empty data volume;
-- `docker compose down -v` is the way to run it again.
CREATE DATABASE monolith;
CREATE DATABASE users;
CREATE DATABASE orders;
CREATE DATABASE payments;
CREATE DATABASE notifications;
CREATE DATABASE cdc;
CREATE DATABASE facade;
CREATE DATABASE unleash;
