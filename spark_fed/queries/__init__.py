"""Reading: every query the routes, the commands and the API share."""
