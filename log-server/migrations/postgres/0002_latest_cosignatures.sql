-- The freshest cosignature of each witness on each checkpoint. `cosignatures` keeps the
-- first one (it dates the entries the checkpoint covers: provable age); while the tree does
-- not grow the log asks its witnesses to cosign the same checkpoint again, and the newer
-- timestamps go here, so that `/checkpoint` shows an idle log is alive.
CREATE TABLE latest_cosignatures (
    size BIGINT NOT NULL,
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    -- The cosignature's own timestamp (Unix seconds); 0 for rows copied from before this
    -- table existed (any refresh replaces them).
    timestamp BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (size, witness)
);
INSERT INTO latest_cosignatures (size, witness, line, timestamp, received_ms)
    SELECT size, witness, line, 0, received_ms FROM cosignatures;
