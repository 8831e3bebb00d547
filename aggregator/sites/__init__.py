"""Site definitions: the models, loading and validation of the TOML files, categories, and the
bundled catalogue.
"""
