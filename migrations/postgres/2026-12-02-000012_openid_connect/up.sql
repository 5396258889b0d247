-- docs/oidc.md: what OpenID Connect needs stored. A client's logout redirect URIs and ID-token
-- algorithm (RS256 unless it asks for ES256); what a code carries from the authorization
-- request to the ID token (nonce, when and in which session the user signed in, the RFC 8707
-- resource); and what a refresh token keeps of the sign-in for the ID tokens of refreshes, and
-- the API its grant was for, which a refresh keeps.
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256';
ALTER TABLE authorization_codes ADD COLUMN nonce TEXT;
ALTER TABLE authorization_codes ADD COLUMN auth_time TIMESTAMP;
ALTER TABLE authorization_codes ADD COLUMN session_id TEXT;
ALTER TABLE authorization_codes ADD COLUMN resource TEXT;
ALTER TABLE refresh_tokens ADD COLUMN auth_time TIMESTAMP;
ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT;
ALTER TABLE refresh_tokens ADD COLUMN audience TEXT;
