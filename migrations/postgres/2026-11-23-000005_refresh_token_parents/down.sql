DROP TRIGGER refresh_tokens_follow_their_client ON clients;
DROP FUNCTION delete_refresh_tokens_of_client();
DELETE FROM refresh_tokens WHERE client_id NOT IN (SELECT id FROM clients) OR tenant_id NOT IN (SELECT id FROM tenants);
ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    ADD CONSTRAINT refresh_tokens_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE;
