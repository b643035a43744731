"""The daemon's HTTP face: JSON API, Server-Sent Events and the TV pages. Reads the cache only."""
