"""Integration tests of the published contracts, read as another team would read them."""
