'use strict';

// Connection settings come from the standard libpq variables (PGHOST, PGPORT,
// PGUSER, PGDATABASE, PGPASSWORD), which `pg` reads by itself.
const { Pool } = require('pg');

const NORMAL_POOL_SIZE = 10;
const SCHEMA_LOCK_ID = 724311;
const SEED_ROWS = 2000;

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
    application_name: process.env.SERVICE_NAME || 'lab-service',
  });
}

// Several lab services may share one database; the advisory lock keeps their
// schema setup from racing.
async function ensureSchema(pool) {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK_ID]);
    await client.query(`CREATE TABLE IF NOT EXISTS orders (
      id serial PRIMARY KEY,
      customer text NOT NULL,
      total numeric(10, 2) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query('SELECT count(*)::int AS n FROM orders');
    if (rows[0].n === 0) {
      await client.query(`INSERT INTO orders (customer, total)
        SELECT 'customer-' || (g % 97), round((random() * 500)::numeric, 2)
        FROM generate_series(1, $1) AS g`, [SEED_ROWS]);
    }
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

async function revenueByCustomer(pool) {
  const { rows } = await pool.query(`SELECT customer, count(*)::int AS orders, sum(total)::float8 AS revenue
    FROM orders GROUP BY customer ORDER BY revenue DESC`);
  return rows;
}

module.exports = {
  NORMAL_POOL_SIZE,
  createPool,
  ensureSchema,
  recentOrders,
  recentOrdersInTransaction,
  revenueByCustomer,
};
