-- Deleting clients deletes their refresh tokens once per statement, as deleting users does
-- (000006), not once per client: an organization's deletion cascades to all its clients, and
-- each row-level firing scanned refresh_tokens (it has no client_id index).
DROP TRIGGER refresh_tokens_follow_their_client ON clients;
DROP FUNCTION delete_refresh_tokens_of_client();

CREATE FUNCTION delete_refresh_tokens_of_clients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM refresh_tokens WHERE client_id IN (SELECT id FROM deleted_clients);
    RETURN NULL;
END;
$$;

CREATE TRIGGER refresh_tokens_follow_their_client
    AFTER DELETE ON clients
    REFERENCING OLD TABLE AS deleted_clients
    FOR EACH STATEMENT EXECUTE FUNCTION delete_refresh_tokens_of_clients();
