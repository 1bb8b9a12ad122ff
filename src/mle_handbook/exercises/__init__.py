"""Exercise notebooks in nbgrader's format: reading, validating, transforming and checking them."""
