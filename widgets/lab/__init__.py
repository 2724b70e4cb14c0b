"""The MigrationLab panel: a session that decides, widgets that display it and forward events."""
