"""Data layer: database, models, migrations, spreadsheet intake and the use cases pages and the CLI call."""
