"""Pictures, animations and data out of the app; headless screenshots; the File commands."""
