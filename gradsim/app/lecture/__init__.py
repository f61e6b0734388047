"""Teaching tools: lessons scene by scene, comparisons, presentation mode."""
