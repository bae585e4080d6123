-- Passwords waiting for the targets configured to receive them
-- (`send_passwords`), sealed by the ingress (AES-256-GCM, key `key_id`,
-- bound to tenant and resource) — never in clear. The store writes the row
-- in the transaction that applies the write setting the password (a newer
-- one replaces it), and deletes it with the user; each target's worker
-- takes itself off `targets` once the target has it; the last one, or
-- expiry, deletes the row.
create table pending_passwords (
    tenant       text not null,
    resource_id  uuid not null,
    -- the command that set it: a worker takes itself off only this one
    command_id   uuid not null,
    -- the resource's version the write made
    version      bigint not null,
    key_id       text not null,
    nonce        bytea not null,
    ciphertext   bytea not null,
    targets      text[] not null,
    expires_at   timestamptz not null,
    primary key (tenant, resource_id)
);
create index pending_passwords_expires on pending_passwords (expires_at);
