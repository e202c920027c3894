"""What the tests share: worlds to build, servers to start, files to make (not tests)."""
