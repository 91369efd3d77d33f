-- Quorum log server schema (SQLite).
CREATE TABLE entries (
    idx INTEGER PRIMARY KEY,
    entry BLOB NOT NULL,
    envelope_digest BLOB NOT NULL,
    signer BLOB NOT NULL,
    received_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX entries_dedup ON entries (envelope_digest, signer);
CREATE INDEX entries_signer ON entries (signer, idx);

CREATE TABLE subjects (
    package TEXT NOT NULL,
    version TEXT NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (package, version, idx)
) WITHOUT ROWID;

CREATE TABLE hashes (
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);

CREATE TABLE log_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checkpoint_size INTEGER NOT NULL
);
INSERT INTO log_state (id, checkpoint_size) VALUES (1, -1);

CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE cosignatures (
    size INTEGER NOT NULL,
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (size, witness)
);

CREATE TABLE witness_state (
    witness TEXT PRIMARY KEY,
    size INTEGER NOT NULL
);
