"""One package per service; `platform` holds the HTTP and settings plumbing they all share."""
