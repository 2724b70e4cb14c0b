"""Views as pure functions of readings: DOT graphs, lanes, the schema diagram, tables, rows."""
