"""A test authorization server on django-oauth-toolkit; see ../README.md."""
