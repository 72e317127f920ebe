"""The ground floor every app stands on: errors, the API error format, middleware, converters."""
