"""MS2 cuentas: account types, accounts, the ledger (movimientos), a replica of clientes and the saga's cuentas side."""
