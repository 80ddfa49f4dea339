"""Migration 20230301000000: create_users - the seed's users table (schema.sql), portable SQL.

The seed made uuid a PostgreSQL UUID with uuid_generate_v4(); here the app generates it and the
column is text, so the same SQL runs on SQLite and PostgreSQL.
"""


def migrate_sql():
    return """
    CREATE TABLE users (
      uuid VARCHAR(36) PRIMARY KEY,
      display_name TEXT NOT NULL,
      handle TEXT NOT NULL UNIQUE,
      email TEXT,
      cognito_user_id TEXT,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
    );
    """


def rollback_sql():
    return """
    DROP TABLE users;
    """
