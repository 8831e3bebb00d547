"""The application: command line, configuration, the demo and site-definition tests."""
