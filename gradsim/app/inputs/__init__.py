"""What the user touches: the settings panel, toolbar, menus and dialogs."""
