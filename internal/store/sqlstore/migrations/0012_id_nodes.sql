-- cozeauth schema, version 12: the counter that hands each process opening
-- the database the node of the IDs it makes (store.SetIDNode), so that
-- processes sharing a database make different IDs. Same dialect rules as
-- 0001.
CREATE TABLE id_nodes (
    id   BIGINT PRIMARY KEY,
    next BIGINT NOT NULL
);
INSERT INTO id_nodes (id, next) VALUES (1, 0);
