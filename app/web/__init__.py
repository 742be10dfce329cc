"""The server-rendered pages: Jinja2 templates, a little plain JavaScript, no build step."""
