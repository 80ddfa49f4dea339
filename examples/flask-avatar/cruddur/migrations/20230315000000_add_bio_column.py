"""Migration 20230315000000: add_bio_column - the seed's week-8 migration, with the rollback fixed
(the seed's `ALTER TABLE public.users DROP COLUMN;` named no column)."""


def migrate_sql():
    return """
    ALTER TABLE users ADD COLUMN bio TEXT;
    """


def rollback_sql():
    return """
    ALTER TABLE users DROP COLUMN bio;
    """
