DROP TRIGGER refresh_tokens_follow_their_user ON users;
DROP FUNCTION delete_refresh_tokens_of_users();
DELETE FROM refresh_tokens WHERE user_id NOT IN (SELECT id FROM users);
ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
