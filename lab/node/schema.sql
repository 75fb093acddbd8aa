-- The lab shop's schema and data. The Python harness applies it to a fresh database;
-- db.js applies it itself when a service starts against a database that lacks it.
-- Every query the healthy service sends is served by an index; orders.customer_email is
-- deliberately left unindexed (the missing_index fault filters on it).
CREATE TABLE IF NOT EXISTS customers (
  id integer PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL
);

CREATE TABLE IF NOT EXISTS orders (
  id bigserial PRIMARY KEY,
  customer_id integer NOT NULL,
  customer text NOT NULL,
  customer_email text NOT NULL,
  total numeric(10, 2) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS inventory (
  sku integer PRIMARY KEY,
  reserved integer NOT NULL DEFAULT 0
);

INSERT INTO customers (id, name, email)
SELECT g, 'customer-' || g, 'customer-' || g || '@example.com'
FROM generate_series(1, 20000) AS g
WHERE NOT EXISTS (SELECT 1 FROM customers);

-- Half a million orders in one statement (about a second).
INSERT INTO orders (customer_id, customer, customer_email, total, created_at)
SELECT 1 + g % 20000, 'customer-' || (1 + g % 20000), 'customer-' || (1 + g % 20000) || '@example.com',
       round((random() * 500)::numeric, 2), now() - make_interval(secs => 500000 - g)
FROM generate_series(1, 500000) AS g
WHERE NOT EXISTS (SELECT 1 FROM orders);

INSERT INTO inventory (sku)
SELECT g FROM generate_series(1, 1000) AS g
WHERE NOT EXISTS (SELECT 1 FROM inventory);

ANALYZE customers, orders, inventory;
