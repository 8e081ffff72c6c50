"""MS1 clientes: customers and their identity documents (FastAPI + asyncpg + PostgreSQL)."""
