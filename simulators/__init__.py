"""Protocol simulators: they replace the lowest layer (a pty, a mock pin), never the logic above it."""
