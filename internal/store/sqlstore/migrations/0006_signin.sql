-- Sign-in: passwords, MFA devices, failed-attempt counters and instance
-- settings. A user's rows are deleted with the user (deletePrincipalReferences).
-- Binary values (sealed TOTP secrets, WebAuthn credential ids) are base64 text.

CREATE TABLE signin_passwords (
    user_id           TEXT PRIMARY KEY,
    identity_store_id TEXT NOT NULL,
    hash              TEXT NOT NULL, -- PHC argon2id string
    previous          TEXT NOT NULL, -- JSON array of older hashes, newest first
    must_change       BOOLEAN NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE signin_mfa_devices (
    id                TEXT PRIMARY KEY,
    identity_store_id TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    type              TEXT NOT NULL, -- TOTP | WEBAUTHN
    name              TEXT NOT NULL,
    secret            TEXT NOT NULL, -- TOTP: sealed secret
    last_step         BIGINT NOT NULL, -- TOTP: last accepted time step
    credential_id     TEXT NOT NULL, -- WebAuthn: credential id, '' for TOTP
    credential        TEXT NOT NULL, -- WebAuthn: credential record, JSON
    created_at        BIGINT NOT NULL,
    last_used_at      BIGINT NOT NULL
);
CREATE INDEX signin_mfa_devices_user ON signin_mfa_devices (user_id, created_at);
CREATE UNIQUE INDEX signin_mfa_devices_credential ON signin_mfa_devices (credential_id) WHERE credential_id <> '';

CREATE TABLE signin_throttles (
    key          TEXT PRIMARY KEY, -- "user:<store>/<name>" or "source:<address>"
    failures     INTEGER NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    lockouts     INTEGER NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX signin_throttles_updated ON signin_throttles (updated_at);

CREATE TABLE instance_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
