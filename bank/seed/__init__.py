"""Demo data: 20,000 clientes, cuentas and transacciones pushed through the services' real REST paths."""
