-- Temporal keeps its own databases beside the auth database; the temporal-schema service (admin-tools)
-- creates and upgrades their schemas.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
