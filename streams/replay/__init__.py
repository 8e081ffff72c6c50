"""Reading the log back without a consumer group: audits of cuentas and time-range event exports."""
