-- The account types of the original system (API.md §MS2); INSERT IGNORE keeps any later edits to them.
INSERT IGNORE INTO tipos_cuenta (tipo_cuenta_id, nombre, descripcion, costo_mantenimiento, tasa_interes, estado) VALUES
    (1, 'Cuenta Sueldo', 'Cuenta para el abono de remuneraciones, sin costo de mantenimiento', 0.00, 0.00, 'activo'),
    (2, 'Cuenta Free', 'Cuenta de ahorros sin costo de mantenimiento', 0.00, 0.50, 'activo'),
    (3, 'Cuenta Premium', 'Cuenta con beneficios exclusivos y mayor rendimiento', 15.00, 1.50, 'activo'),
    (4, 'Cuenta Ahorro', 'Cuenta de ahorro con la mejor tasa de interés', 5.00, 3.00, 'activo');
