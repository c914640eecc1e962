"""Reports people can look at: matplotlib line charts and a static HTML page."""
