"""Reports people can look at: PIL line charts and a static HTML page."""
