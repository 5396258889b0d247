//! The diesel schema, written to match `migrations/` (identical for both backends).

diesel::table! {
    tenants (id) {
        id -> Text,
        name -> Text,
        plan -> Text,
        environment -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        domains -> Text,
        metadata -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        plan -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        tenant_id -> Text,
        organization_id -> Nullable<Text>,
        email -> Text,
        name -> Text,
        password_hash -> Nullable<Text>,
        email_verified -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        role -> Text,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        tenant_id -> Text,
        organization_id -> Nullable<Text>,
        name -> Text,
        confidential -> Bool,
        secret_hash -> Nullable<Text>,
        secret_redacted -> Nullable<Text>,
        previous_secret_hash -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        redirect_uris -> Text,
        grant_types -> Text,
        scopes -> Text,
        skip_consent -> Bool,
        access_token_ttl -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        post_logout_redirect_uris -> Text,
        id_token_signed_response_alg -> Text,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        tenant_id -> Nullable<Text>,
        organization_id -> Nullable<Text>,
        name -> Text,
        key_hash -> Text,
        redacted -> Text,
        previous_key_hash -> Nullable<Text>,
        previous_key_expires_at -> Nullable<Timestamp>,
        scopes -> Text,
        environment -> Text,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        rate_limit_window_seconds -> Nullable<BigInt>,
        rate_limit_limit -> Nullable<BigInt>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        private_key_pem -> Text,
        public_jwk -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        tenant_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        action -> Text,
        target_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        metadata -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    resources (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        identifier -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    resource_identifiers (identifier) {
        identifier -> Text,
        tenant_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(organizations -> tenants (tenant_id));
diesel::joinable!(resources -> tenants (tenant_id));
diesel::joinable!(clients -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    organizations,
    users,
    clients,
    api_keys,
    signing_keys,
    audit_events,
    server_secrets,
    revoked_tokens,
    authorization_codes,
    refresh_tokens,
    resources,
    resource_identifiers,
);

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        tenant_id -> Text,
        expires_at -> Timestamp,
        revoked_at -> Timestamp,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        tenant_id -> Text,
        client_id -> Text,
        user_id -> Text,
        redirect_uri -> Text,
        scope -> Text,
        code_challenge -> Nullable<Text>,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        issued_jti -> Nullable<Text>,
        issued_expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        nonce -> Nullable<Text>,
        auth_time -> Nullable<Timestamp>,
        session_id -> Nullable<Text>,
        resource -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        family_id -> Text,
        tenant_id -> Text,
        client_id -> Text,
        user_id -> Text,
        scope -> Text,
        access_jti -> Text,
        access_expires_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        auth_time -> Nullable<Timestamp>,
        session_id -> Nullable<Text>,
        audience -> Nullable<Text>,
    }
}
