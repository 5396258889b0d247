DROP TRIGGER refresh_tokens_follow_their_client ON clients;
DROP FUNCTION delete_refresh_tokens_of_clients();

CREATE FUNCTION delete_refresh_tokens_of_client() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM refresh_tokens WHERE client_id = OLD.id;
    RETURN OLD;
END;
$$;

CREATE TRIGGER refresh_tokens_follow_their_client
    AFTER DELETE ON clients
    FOR EACH ROW EXECUTE FUNCTION delete_refresh_tokens_of_client();
