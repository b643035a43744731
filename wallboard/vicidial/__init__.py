"""The only code that speaks to VICIdial: the HTTP client and pure response parsers."""
