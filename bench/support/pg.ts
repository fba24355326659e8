/** The PostgreSQL sink of the batch-sink benchmark: one table per run, written to by the subjects, counted, dropped. */
import pg from 'pg';
import { payload, uniqueName } from './common.js';

export const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type Order = ReturnType<typeof payload>;

/** Runner side: the server's version and commit durability, for the section's text. */
export async function postgresFacts(): Promise<{ version: string; synchronousCommit: string }> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const version = await client.query<{ server_version: string }>('SHOW server_version');
    const commit = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    return { version: version.rows[0].server_version, synchronousCommit: commit.rows[0].synchronous_commit };
  } finally {
    await client.end();
  }
}

const COLUMNS = '(i, order_id, amount, currency, note)';

export class OrderTable {
  readonly name = uniqueName('bench_sink').replace(/-/g, '_');

  private constructor(readonly pool: pg.Pool) {}

  /** A pool of `connections` clients, all opened before the measured phase, and a fresh table. */
  static async create(connections: number): Promise<OrderTable> {
    const pool = new pg.Pool({ connectionString: PG_URL, max: connections });
    const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
    for (const c of clients) c.release();
    const table = new OrderTable(pool);
    await pool.query(
      `CREATE TABLE ${table.name} (i integer PRIMARY KEY, order_id text NOT NULL, amount integer NOT NULL, currency text NOT NULL, note text NOT NULL)`,
    );
    return table;
  }

  async insertOne(o: Order): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.name} ${COLUMNS} VALUES ($1, $2, $3, $4, $5)`, [
      o.i,
      o.orderId,
      o.amount,
      o.currency,
      o.note,
    ]);
  }

  /** One multi-row INSERT for the whole batch. */
  async insertMany(orders: readonly Order[]): Promise<void> {
    const rows = orders.map((_, k) => `($${5 * k + 1}, $${5 * k + 2}, $${5 * k + 3}, $${5 * k + 4}, $${5 * k + 5})`);
    const values = orders.flatMap((o) => [o.i, o.orderId, o.amount, o.currency, o.note]);
    await this.pool.query(`INSERT INTO ${this.name} ${COLUMNS} VALUES ${rows.join(', ')}`, values);
  }

  /** Fails unless the table holds exactly the messages 0..n-1 (the primary key rules out duplicates). */
  async verify(n: number): Promise<number> {
    const { rows } = await this.pool.query<{ rows: number; lo: number | null; hi: number | null }>(
      `SELECT count(*)::int AS rows, min(i) AS lo, max(i) AS hi FROM ${this.name}`,
    );
    const r = rows[0];
    if (r.rows !== n || (n > 0 && (r.lo !== 0 || r.hi !== n - 1)))
      throw new Error(`${this.name} holds ${r.rows} rows (i ${r.lo}..${r.hi}) after ${n} messages were sent`);
    return r.rows;
  }

  async drop(): Promise<void> {
    await this.pool.query(`DROP TABLE IF EXISTS ${this.name}`);
    await this.pool.end();
  }
}
