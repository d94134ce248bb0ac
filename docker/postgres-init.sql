-- Temporal keeps its own databases beside the auth database (auto-setup creates their schemas).
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
