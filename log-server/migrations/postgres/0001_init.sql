-- Quorum log server schema (PostgreSQL).
CREATE TABLE entries (
    idx BIGINT PRIMARY KEY,
    entry BYTEA NOT NULL,
    envelope_digest BYTEA NOT NULL,
    signer BYTEA NOT NULL,
    received_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX entries_dedup ON entries (envelope_digest, signer);
CREATE INDEX entries_signer ON entries (signer, idx);

CREATE TABLE subjects (
    package TEXT NOT NULL,
    version TEXT NOT NULL,
    idx BIGINT NOT NULL,
    PRIMARY KEY (package, version, idx)
);

CREATE TABLE hashes (
    id BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);

CREATE TABLE log_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checkpoint_size BIGINT NOT NULL
);
INSERT INTO log_state (id, checkpoint_size) VALUES (1, -1);

CREATE TABLE checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE cosignatures (
    size BIGINT NOT NULL,
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (size, witness)
);

CREATE TABLE witness_state (
    witness TEXT PRIMARY KEY,
    size BIGINT NOT NULL
);
