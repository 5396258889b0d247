-- Every refresh inserts a token whose tenant and client are the same few rows for all of an
-- application's users. PostgreSQL checks a foreign key by taking a share lock on the parent
-- row, and many concurrent lockers of one row make it build multixacts: those two checks
-- cost about a tenth of PostgreSQL's CPU per refresh. The user key stays (users are many,
-- and deleting a user, or their organization or tenant, still cascades to their tokens).
-- Deleting a client removes its tokens through this trigger instead. (No index on client_id:
-- one more index write per refresh to speed up a rare deletion, which, like deleting a user,
-- scans the table.)
ALTER TABLE refresh_tokens
    DROP CONSTRAINT refresh_tokens_tenant_id_fkey,
    DROP CONSTRAINT refresh_tokens_client_id_fkey;

CREATE FUNCTION delete_refresh_tokens_of_client() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM refresh_tokens WHERE client_id = OLD.id;
    RETURN OLD;
END;
$$;

CREATE TRIGGER refresh_tokens_follow_their_client
    AFTER DELETE ON clients
    FOR EACH ROW EXECUTE FUNCTION delete_refresh_tokens_of_client();
