"""The pages: thin views that render a template; their data comes from the API in the browser."""
