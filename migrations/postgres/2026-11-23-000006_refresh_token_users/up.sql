-- The last foreign key of refresh_tokens, to users, goes too: PostgreSQL checks it on every
-- refresh (the successor's insert), with a trigger, a query and a share lock on the user's row,
-- about a tenth of its CPU per refresh. A refresh reads the user anyway (their organization goes
-- into the access token), and only a token whose user exists can be used.
-- Deleting users (directly, or with their organization or tenant) deletes their tokens through
-- this statement-level trigger: one pass over refresh_tokens per statement, not one per user as
-- the foreign key's cascade made. A refresh that commits while its user is being deleted can
-- leave a successor behind; no refresh or introspection finds it (they join users), and the
-- cleanup task deletes it when it expires.
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_user_id_fkey;

CREATE FUNCTION delete_refresh_tokens_of_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM refresh_tokens WHERE user_id IN (SELECT id FROM deleted_users);
    RETURN NULL;
END;
$$;

CREATE TRIGGER refresh_tokens_follow_their_user
    AFTER DELETE ON users
    REFERENCING OLD TABLE AS deleted_users
    FOR EACH STATEMENT EXECUTE FUNCTION delete_refresh_tokens_of_users();
