"""Migration 20261203000000: add_avatar_columns - the avatar-version design.

avatar_version: first 16 hex digits of sha256(avatar JPEG); NULL = no avatar. The URL handed out is
ASSETS_BASE_URL/avatars/<uuid>.jpg?v=<avatar_version>.
avatar_pending_since: set when a presigned upload URL is handed out (the seed's way), cleared when
the new version is known (webhook, HEAD of the assets object, or a direct upload).
"""


def migrate_sql():
    return """
    ALTER TABLE users ADD COLUMN avatar_version VARCHAR(16);
    ALTER TABLE users ADD COLUMN avatar_width INTEGER;
    ALTER TABLE users ADD COLUMN avatar_height INTEGER;
    ALTER TABLE users ADD COLUMN avatar_pending_since TEXT;
    """


def rollback_sql():
    return """
    ALTER TABLE users DROP COLUMN avatar_pending_since;
    ALTER TABLE users DROP COLUMN avatar_height;
    ALTER TABLE users DROP COLUMN avatar_width;
    ALTER TABLE users DROP COLUMN avatar_version;
    """
