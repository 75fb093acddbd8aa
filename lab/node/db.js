'use strict';

// Connection settings come from the standard libpq variables (PGHOST, PGPORT,
// PGUSER, PGDATABASE, PGPASSWORD, PGAPPNAME), which `pg` reads by itself.
const fs = require('node:fs');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { Pool } = require('pg');

const NORMAL_POOL_SIZE = 10;
const SCHEMA_LOCK_ID = 724311;
const SCHEMA_SQL = fs.readFileSync(path.join(__dirname, 'schema.sql'), 'utf8');
const CUSTOMERS = 20000;

function createPool(max = NORMAL_POOL_SIZE) {
  const env = process.env;
  // Explicit settings (rather than libpq defaults) give the pool a readable name in metrics.
  return new Pool({
    host: env.PGHOST || '127.0.0.1',
    port: Number(env.PGPORT || 5432),
    user: env.PGUSER || 'postgres',
    database: env.PGDATABASE || 'postgres',
    max,
    idleTimeoutMillis: 10000,
    connectionTimeoutMillis: 3000,
    application_name: env.PGAPPNAME || env.SERVICE_NAME || 'lab-service',
  });
}

// The Python harness creates the schema before any service starts; a service started on
// its own creates it here. Several services may share one database: the advisory lock
// keeps them from racing.
async function ensureSchema(pool) {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK_ID]);
    const { rows } = await client.query("SELECT to_regclass('public.inventory') IS NOT NULL AS ready");
    if (!rows[0].ready) await client.query(SCHEMA_SQL);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK_ID]).catch(() => {});
    client.release();
  }
}

async function recentOrders(pool, { sleepSeconds = 0 } = {}) {
  // The one-row CTE stands in for an expensive plan: it runs once per query.
  const sql = `WITH plan AS (SELECT pg_sleep($1::float8))
    SELECT id, customer, total FROM orders, plan ORDER BY id DESC LIMIT 20`;
  const { rows } = await pool.query(sql, [sleepSeconds]);
  return rows;
}

// Holds one pooled connection for the whole transaction, like an ORM unit of work.
async function recentOrdersInTransaction(pool, holdSeconds) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_sleep($1)', [holdSeconds]);
    const { rows } = await client.query('SELECT id, customer, total FROM orders ORDER BY id DESC LIMIT 20');
    await client.query('COMMIT');
    return rows;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

// Revenue per customer over the latest 2,000 orders (an index range scan).
async function revenueByCustomer(pool) {
  const { rows } = await pool.query(`SELECT customer, count(*)::int AS orders, sum(total)::float8 AS revenue
    FROM orders WHERE id > (SELECT max(id) - 2000 FROM orders)
    GROUP BY customer ORDER BY revenue DESC LIMIT 20`);
  return rows;
}

function randomCustomerId() {
  return 1 + Math.floor(Math.random() * CUSTOMERS);
}

// A customer's orders looked up by e-mail: no index covers customer_email, so every call
// reads the whole table.
async function ordersByEmail(pool) {
  const email = `customer-${randomCustomerId()}@example.com`;
  const { rows } = await pool.query(`SELECT id, total, created_at FROM orders
    WHERE customer_email = $1 ORDER BY created_at DESC`, [email]);
  return rows;
}

// The latest orders, then each order's customer, one query per order (lazy loading).
async function recentOrdersWithCustomers(pool, count) {
  const { rows } = await pool.query(
    'SELECT id, customer_id, total FROM orders ORDER BY id DESC LIMIT $1', [count]);
  for (const order of rows) {
    const found = await pool.query('SELECT name, email FROM customers WHERE id = $1', [order.customer_id]);
    order.customer = found.rows[0];
  }
  return rows;
}

// Reserving stock takes the SKU's row lock, and waits whenever the stock sync holds it.
async function reserveStock(pool, sku) {
  await pool.query('UPDATE inventory SET reserved = reserved + 1 WHERE sku = $1', [sku]);
}

// The stock sync updates a SKU, then waits on a slow supplier call with its transaction,
// and so the row lock, still open.
async function syncStockHoldingLock(pool, sku, holdMs) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('UPDATE inventory SET reserved = 0 WHERE sku = $1', [sku]);
    await sleep(holdMs);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

class ValidationError extends Error {
  constructor(message) {
    super(message);
    this.statusCode = 422;
  }
}

// Loads an order inside a transaction to edit it. The bug: the validation error path
// throws before COMMIT and before release(), so the connection never returns to the pool
// and its session stays idle in transaction.
async function orderForEditing(pool, { invalid }) {
  const client = await pool.connect();
  await client.query('BEGIN');
  const orderId = 1 + Math.floor(Math.random() * 500000);
  const { rows } = await client.query('SELECT id, total FROM orders WHERE id = $1', [orderId]);
  if (invalid) throw new ValidationError('order cannot be edited');
  await client.query('COMMIT');
  client.release();
  return rows;
}

module.exports = {
  NORMAL_POOL_SIZE,
  createPool,
  ensureSchema,
  orderForEditing,
  ordersByEmail,
  recentOrders,
  recentOrdersInTransaction,
  recentOrdersWithCustomers,
  reserveStock,
  revenueByCustomer,
  syncStockHoldingLock,
};
