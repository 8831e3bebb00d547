"""The application: the command line, configuration, publishing after crawls, and the
site-definition tests."""
