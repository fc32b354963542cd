"""Pipeline stages and messages: booking intake, criminal history, IDENT, LESC, field office,
notices, detainer lifecycle (DESIGN 2)."""
