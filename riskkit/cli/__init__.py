"""The command-line layer: one module per command group; each parses, calls one
library function and renders its result.  No logic lives here."""
