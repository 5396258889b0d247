DROP TABLE resource_identifiers;
