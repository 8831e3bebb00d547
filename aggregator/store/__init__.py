"""The store: records, migrations, every query, and the SQLite and PostgreSQL backends."""
