-- Each signer's trust and revocation statements are also indexed under
-- `quorum:trust-graph/<signer key in lowercase hex>` (version ''), so that a client that
-- verifies the trust graph outward from its roots can ask for one signer's statements
-- without the log reading that signer's other entries. New entries get the row when they
-- are appended; this adds it for the entries appended before.
INSERT INTO subjects (package, version, idx)
    SELECT 'quorum:trust-graph/' || lower(hex(e.signer)), '', e.idx
    FROM subjects s JOIN entries e ON e.idx = s.idx
    WHERE s.package = 'quorum:trust-graph' AND s.version = '';
