"""Settings -> component Args, one module per area: the only code that knows both sides."""
