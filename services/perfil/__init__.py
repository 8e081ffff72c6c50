"""MS3 perfil: the 360° customer profile, a materialized view folded from the domain topics."""
