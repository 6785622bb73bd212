"""The pages and the form actions of the web interface, one module per part of the site."""
