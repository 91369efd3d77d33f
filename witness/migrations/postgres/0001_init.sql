-- Logs the witness knows. A log is never removed: forgetting its state and re-adding it
-- would let the witness cosign a checkpoint that contradicts one it cosigned before.
CREATE TABLE logs (
    origin      TEXT PRIMARY KEY NOT NULL,
    origin_hash TEXT NOT NULL UNIQUE,
    url         TEXT,
    added_at    BIGINT NOT NULL
);

-- Verifier keys trusted for a log's checkpoints (signed-note vkey strings).
CREATE TABLE log_keys (
    origin   TEXT NOT NULL REFERENCES logs(origin),
    vkey     TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (origin, vkey)
);

-- The latest checkpoint cosigned per log. Advanced only by compare-and-swap on (size, root).
CREATE TABLE checkpoints (
    origin     TEXT PRIMARY KEY NOT NULL REFERENCES logs(origin),
    size       BIGINT NOT NULL,
    root       BYTEA NOT NULL,
    note       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Validly signed checkpoints that conflict with what the witness cosigned.
CREATE TABLE evidence (
    id               BIGSERIAL PRIMARY KEY,
    origin           TEXT NOT NULL REFERENCES logs(origin),
    kind             TEXT NOT NULL,
    cosigned_note    TEXT NOT NULL,
    conflicting_note TEXT NOT NULL,
    proof            TEXT NOT NULL,
    conflict_hash    TEXT NOT NULL UNIQUE,
    observed_at      BIGINT NOT NULL
);
CREATE INDEX evidence_origin ON evidence(origin, id);
