"""What the class sees: heatmaps, line plots, theory readouts, captions and their colours."""
