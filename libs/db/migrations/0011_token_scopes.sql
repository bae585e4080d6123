-- Tokens carry scopes, may expire, remember (to about half a minute) when
-- they were last used, and keep the first characters of their secret (a
-- prefix that tells a listed token apart, far too short to guess from).
-- Tokens made before scopes existed keep what they could do: read, write
-- and poll.
alter table api_tokens
    add column prefix       text not null default '',
    add column scopes       text[] not null default '{scim:read,scim:write,events:poll}',
    add column expires_at   timestamptz,
    add column last_used_at timestamptz;

-- Every ingress replica caches tokens; each change that decides whether a
-- token is good (made, revoked, re-scoped, expiry moved, deleted) is told
-- to all of them at once on this channel, with the token's hash in hex.
-- `last_used_at` is not such a change.
create function api_tokens_changed() returns trigger
language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        perform pg_notify('scimbus_tokens', encode(old.token_hash, 'hex'));
    end if;
    if tg_op <> 'DELETE' and (tg_op = 'INSERT' or new.token_hash <> old.token_hash) then
        perform pg_notify('scimbus_tokens', encode(new.token_hash, 'hex'));
    end if;
    return null;
end
$$;

create trigger api_tokens_changed
    after insert or delete or update of token_hash, tenant, scopes, expires_at, revoked_at
    on api_tokens
    for each row execute function api_tokens_changed();
