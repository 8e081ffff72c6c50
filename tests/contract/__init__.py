"""Storage-port contracts: one abstract test class per port, subclassed once per implementation (the unit tests'
fake and each real backend), so every fake is proven to behave like the real thing."""
