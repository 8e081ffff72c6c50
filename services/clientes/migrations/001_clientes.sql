-- Customers and their identity documents. Ids are identities the server generates (GENERATED ALWAYS: not even
-- a bad INSERT can pick one), deletes are soft (deleted_at) so history and events keep their referent.
CREATE TABLE clientes (
    cliente_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nombre         VARCHAR(100) NOT NULL CHECK (btrim(nombre) <> ''),
    apellido       VARCHAR(100) NOT NULL CHECK (btrim(apellido) <> ''),
    email          VARCHAR(150) NOT NULL CHECK (btrim(email) <> ''),
    telefono       VARCHAR(20),
    estado         TEXT NOT NULL DEFAULT 'activo' CHECK (estado IN ('activo', 'inactivo', 'bloqueado')),
    fecha_registro TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at     TIMESTAMPTZ
);

-- Email is unique ignoring case among live clientes: the database decides, so two racing requests cannot both win.
-- A deleted cliente frees its email (and documents) so the person can register again.
CREATE UNIQUE INDEX clientes_email_key ON clientes (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX clientes_estado_idx ON clientes (estado, cliente_id) WHERE deleted_at IS NULL;

CREATE TABLE documentos_identidad (
    documento_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cliente_id        BIGINT NOT NULL REFERENCES clientes (cliente_id),
    tipo_documento    TEXT NOT NULL CHECK (tipo_documento IN ('DNI', 'Pasaporte', 'RUC', 'Carnet Extranjeria')),
    numero_documento  VARCHAR(20) NOT NULL CHECK (btrim(numero_documento) <> ''),
    fecha_emision     DATE,
    fecha_vencimiento DATE,
    deleted_at        TIMESTAMPTZ,
    CONSTRAINT documentos_vigencia_check CHECK (fecha_vencimiento > fecha_emision)
);

CREATE UNIQUE INDEX documentos_numero_key ON documentos_identidad (numero_documento) WHERE deleted_at IS NULL;
CREATE INDEX documentos_cliente_idx ON documentos_identidad (cliente_id);
